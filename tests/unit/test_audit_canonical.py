"""The hash's fast encoding writes the very bytes of the canonical JSON encoder, for any entry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.audit import ENTRY_FIELDS, entry_hash, iso

ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # quotes, controls, non-ASCII
scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3)
)


def _reference(entry: dict[str, Any]) -> str:
    content = {name: entry[name] for name in ENTRY_FIELDS}
    content["at"] = iso(content["at"])
    return hashlib.sha256(ENCODER.encode(content).encode()).hexdigest()


@given(
    rel=st.integers(min_value=1), seq=st.integers(min_value=1), actor=text, trigger=text,
    source=st.none() | text, reason=st.none() | text, data=st.dictionaries(text, json_value, max_size=4),
)  # fmt: skip
def test_entry_hash_is_the_encoder_s_hash(
    rel: int, seq: int, actor: str, trigger: str, source: str | None, reason: str | None, data: dict[str, Any]
) -> None:
    entry = {
        "relationship_id": rel, "seq": seq, "at": datetime(2026, 1, 5, 9, 0, 0, 7, tzinfo=UTC),
        "actor": actor, "trigger": trigger, "from_phase": source, "to_phase": "active", "reason": reason,
        "policy_name": "défault", "policy_version": "sha256:abc", "data": data, "prev_hash": "0" * 64,
    }  # fmt: skip
    assert entry_hash(entry) == _reference(entry)
