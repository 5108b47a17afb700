"""docs/privacy.md lists every column of the store with whether it holds personal data: a column added
without its line (or a line left for a column that is gone) fails here."""

from __future__ import annotations

import re
from pathlib import Path

from engine.store.tables import metadata

INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
_ROW = re.compile(r"^\| `([a-z_]+)\.([a-z_]+)` \| (yes|id|no) \| (.+) \|$")


def _listed() -> dict[tuple[str, str], str]:
    rows = [_ROW.match(line) for line in INVENTORY.read_text(encoding="utf-8").splitlines()]
    return {(m.group(1), m.group(2)): m.group(3) for m in rows if m}


def test_every_column_of_the_store_is_in_the_inventory_and_nothing_else() -> None:
    columns = {(table.name, column.name) for table in metadata.sorted_tables for column in table.columns}
    listed = _listed()
    assert sorted(columns - set(listed)) == [], "add these columns to docs/privacy.md"
    assert sorted(set(listed) - columns) == [], "these lines of docs/privacy.md name no column"


def test_the_columns_that_name_or_describe_people_are_marked_personal() -> None:
    listed = _listed()
    for column in [("participants", "name"), ("participants", "email"), ("survey_responses", "free_text"),
                   ("meetings", "notes"), ("audit_entries", "reason"), ("match_proposals", "explanation"),
                   ("outbox_deliveries", "address"), ("goals", "text")]:  # fmt: skip
        assert listed[column] == "yes", column
