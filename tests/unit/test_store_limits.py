"""The store's limits as the checks before writing see them: read from the table definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.services import limits
from engine.store import limits as store_limits
from engine.store.tables import participants


def test_column_lengths_come_from_the_table_definitions() -> None:
    lengths = limits.column_lengths("participants")
    assert {name: lengths[name] for name in ("name", "email", "external_id", "department")} == {
        "name": 200, "email": 320, "external_id": 100, "department": 200,
    }  # fmt: skip
    assert lengths["name"] == participants.c.name.type.length  # type: ignore[attr-defined]
    assert "level" not in lengths and "skills" not in lengths  # integers and JSON have no length


def test_the_integer_limit_is_the_stores() -> None:
    assert limits.INTEGER_MAX == store_limits.INTEGER_MAX == 2**31 - 1
    assert limits.INTEGER_MIN == -(2**31)


def test_an_actor_fits_every_column_that_records_one() -> None:
    assert limits.actor_length() == 200


def test_the_moments_leave_room_for_the_longest_policy_duration() -> None:
    assert limits.in_range(datetime(2026, 1, 5, tzinfo=UTC))
    assert not limits.in_range(limits.LATEST) and not limits.in_range(limits.EARLIEST - timedelta(1))
    assert limits.LATEST + timedelta(days=36525 * 3) < datetime.max.replace(tzinfo=UTC)
