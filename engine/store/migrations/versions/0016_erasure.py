"""erasure: audit reasons sealed, erasable free text, erased participants

An audit entry's ``reason`` is free text that can identify someone. From this
revision on, an entry with a reason stores beside it a random ``reason_salt``
and ``reason_seal`` = HMAC-SHA256 of the text under that salt; the chain hashes
the seal, not the text (engine.domain.audit). Erasing the reason sets the text
and the salt to NULL: the seal still verifies the entry, and without the salt
the seal tells nothing about the text. Entries written before this revision
keep their hashes, which cover their text; erasing one of them is attested by
a later entry of the same chain (see engine.domain.audit.verify_chain).

The triggers that keep audit entries and meetings append-only now allow
exactly these updates: an audit entry's ``reason`` and ``reason_salt`` set to
NULL (and its ``data`` redacted, which ``audit verify`` checks against the
attesting entry), a meeting's ``notes`` set to NULL. ``participants`` gets
``erased_at``: when the person's data was erased and replaced by a pseudonym.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ENTRY_KEPT = (
    "id", "relationship_id", "seq", "at", "actor", "trigger", "from_phase", "to_phase", "policy_name",
    "policy_version", "prev_hash", "hash", "reason_seal",
)  # fmt: skip
_MEETING_KEPT = ("id", "relationship_id", "kind", "held_on", "recorded_at", "recorded_by", "entry_seq")
_ENTRIES = "audit entries are append-only (only a reason may be erased, set to NULL)"
_MEETINGS = "meetings are append-only (only notes may be erased, set to NULL)"


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("reason_seal", sa.String(length=80), nullable=True))
    op.add_column("audit_entries", sa.Column("reason_salt", sa.String(length=32), nullable=True))
    op.add_column("participants", sa.Column("erased_at", UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers(erasable=True)
    else:
        _sqlite_triggers(erasable=True)


def downgrade() -> None:
    """Refused once a reason was sealed or a person erased: the entries' hashes need their seals, and an
    erasure's redactions are vouched for by entries an older mentorflow does not read."""
    bind = op.get_bind()
    sealed = bind.execute(
        sa.text("SELECT count(*) FROM audit_entries WHERE reason_seal IS NOT NULL")
    ).scalar()
    erased = bind.execute(sa.text("SELECT count(*) FROM participants WHERE erased_at IS NOT NULL")).scalar()
    if sealed or erased:
        raise RuntimeError(
            f"cannot downgrade below 0016: {sealed} audit entries have sealed reasons and {erased} "
            "participants were erased; an older mentorflow could not verify their chains"
        )
    if bind.dialect.name == "postgresql":
        _postgresql_triggers(erasable=False)
    else:
        _sqlite_triggers(erasable=False)
    op.drop_column("participants", "erased_at")
    op.drop_column("audit_entries", "reason_salt")
    op.drop_column("audit_entries", "reason_seal")


def _postgresql_triggers(*, erasable: bool) -> None:
    """Replace the functions behind the append-only triggers of 0001 and 0005 (the triggers stay)."""
    if erasable:
        kept = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _ENTRY_KEPT)
        entries = (
            f"IF TG_OP = 'UPDATE' AND NEW.reason IS NULL AND NEW.reason_salt IS NULL AND {kept} "
            f"THEN RETURN NEW; END IF; RAISE EXCEPTION '{_ENTRIES}';"
        )
        kept = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _MEETING_KEPT)
        meetings = (
            f"IF TG_OP = 'UPDATE' AND NEW.notes IS NULL AND {kept} "
            f"THEN RETURN NEW; END IF; RAISE EXCEPTION '{_MEETINGS}';"
        )
    else:
        entries = "RAISE EXCEPTION 'audit entries are append-only';"
        meetings = "RAISE EXCEPTION 'meetings are append-only';"
    for name, body in (
        ("mentorflow_audit_append_only", entries),
        ("mentorflow_meetings_append_only", meetings),
    ):
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} END; $$ LANGUAGE plpgsql"
        )


def _sqlite_triggers(*, erasable: bool) -> None:
    """Recreate the UPDATE triggers of 0001 and 0005 (the DELETE triggers stay)."""
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    op.execute("DROP TRIGGER IF EXISTS meetings_no_update")
    if erasable:
        kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _ENTRY_KEPT)
        entries = f"WHEN NOT (NEW.reason IS NULL AND NEW.reason_salt IS NULL AND {kept}) "
        kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _MEETING_KEPT)
        meetings = f"WHEN NOT (NEW.notes IS NULL AND {kept}) "
        entries_message, meetings_message = _ENTRIES, _MEETINGS
    else:
        entries = meetings = ""
        entries_message, meetings_message = "audit entries are append-only", "meetings are append-only"
    op.execute(
        f"CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries {entries}"
        f"BEGIN SELECT RAISE(ABORT, '{entries_message}'); END"
    )
    op.execute(
        f"CREATE TRIGGER meetings_no_update BEFORE UPDATE ON meetings {meetings}"
        f"BEGIN SELECT RAISE(ABORT, '{meetings_message}'); END"
    )
