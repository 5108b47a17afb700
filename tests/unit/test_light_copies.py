"""The constants light commands keep as copies, so as not to import the engine's heavier modules, equal
the engine's own."""

from __future__ import annotations


def test_history_shows_every_recorded_entry_in_its_phase() -> None:
    from engine.policy.vocabulary import RECORD_TRIGGERS
    from workflows.cli.program import _RECORDED

    assert frozenset(_RECORDED) == RECORD_TRIGGERS and len(_RECORDED) == len(RECORD_TRIGGERS)


def test_the_light_reader_knows_the_schema_revision() -> None:
    from engine.store import database, lite

    assert lite.SCHEMA_REVISION == database.SCHEMA_REVISION
    assert lite.RECORD_RETRACT == "retract"
