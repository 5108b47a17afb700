"""meetings and survey answers append-only, each linked to the audit entry that recorded it

Each meeting and survey answer row gets ``entry_seq``: the seq of the entry of
its relationship's chain that recorded it (``record_meeting``,
``record_survey``), so ``audit verify`` can compare the two. A survey answer's
free text moves to its own column ``free_text``: it is never in the chain, and
it is the only thing that may change afterwards (set to NULL, to erase what a
person wrote). Triggers refuse every other update and every delete, as the
initial migration does for the audit entries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ANSWER_COLUMNS = ("id", "relationship_id", "survey", "respondent", "answered_at", "entry_seq")
_MESSAGE_MEETINGS = "meetings are append-only"
_MESSAGE_ANSWERS = "survey answers are append-only (only free_text may be erased, set to NULL)"

_entries = sa.table(
    "audit_entries",
    sa.column("relationship_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("trigger", sa.String),
    sa.column("data", sa.JSON),
)
_meetings = sa.table(
    "meetings",
    sa.column("id", sa.Integer),
    sa.column("relationship_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("held_on", UTCDateTime),
    sa.column("entry_seq", sa.Integer),
)
_answers = sa.table(
    "survey_responses",
    sa.column("id", sa.Integer),
    sa.column("relationship_id", sa.Integer),
    sa.column("survey", sa.String),
    sa.column("respondent", sa.String),
    sa.column("answers", sa.JSON),
    sa.column("free_text", sa.JSON(none_as_null=True)),
    sa.column("entry_seq", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_seq", sa.Integer(), nullable=True))
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("free_text", sa.JSON(none_as_null=True), nullable=True))
    _link_meetings()
    _link_answers()
    _forbid_changes()


def _recorded(trigger: str) -> dict[int, list[tuple[int, dict[str, Any]]]]:
    """Per relationship, (seq, data) of each entry with ``trigger``, in chain order."""
    found: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    query = sa.select(_entries.c.relationship_id, _entries.c.seq, _entries.c.data).where(
        _entries.c.trigger == trigger
    )
    for rid, seq, data in op.get_bind().execute(query.order_by(_entries.c.relationship_id, _entries.c.seq)):
        found[rid].append((seq, data or {}))
    return found


def _link_meetings() -> None:
    """Give each meeting the seq of the first unclaimed entry of its chain that recorded the same meeting."""
    from engine.domain.audit import iso

    bind, entries = op.get_bind(), _recorded("record_meeting")
    rows = bind.execute(sa.select(_meetings).order_by(_meetings.c.id)).all()
    for row in rows:
        free = entries.get(row.relationship_id, [])
        held = {"kind": row.kind, "held_on": iso(row.held_on)}
        found = next((item for item in free if item[1].get("meeting") == held), None)
        if found is not None:
            free.remove(found)
            bind.execute(_meetings.update().where(_meetings.c.id == row.id).values(entry_seq=found[0]))


def _link_answers() -> None:
    """Link each answer to its entry; ``answers`` keeps only what the entry holds, the rest is free text."""
    bind, entries = op.get_bind(), _recorded("record_survey")
    rows = bind.execute(sa.select(_answers).order_by(_answers.c.id)).all()
    for row in rows:
        answers = dict(row.answers or {})
        free = entries.get(row.relationship_id, [])
        found = next(
            (item for item in free if _same_answer(item[1], row.survey, row.respondent, answers)), None
        )
        if found is None:
            continue
        free.remove(found)
        kept = found[1]["survey"].get("answers") or {}
        text = {qid: value for qid, value in answers.items() if qid not in kept}
        bind.execute(
            _answers.update()
            .where(_answers.c.id == row.id)
            .values(entry_seq=found[0], answers=kept, free_text=text or None)
        )


def _same_answer(data: dict[str, Any], survey: str, respondent: str, answers: dict[str, Any]) -> bool:
    recorded = data.get("survey") or {}
    kept = recorded.get("answers") or {}
    return (
        recorded.get("name") == survey
        and recorded.get("respondent") == respondent
        and all(qid in answers and answers[qid] == value for qid, value in kept.items())
    )


def _forbid_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _ANSWER_COLUMNS)
        op.execute(
            "CREATE FUNCTION mentorflow_meetings_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_MESSAGE_MEETINGS}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER meetings_append_only BEFORE UPDATE OR DELETE ON meetings "
            "FOR EACH ROW EXECUTE FUNCTION mentorflow_meetings_append_only()"
        )
        op.execute(
            "CREATE FUNCTION mentorflow_answers_append_only() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND NEW.free_text IS NULL AND {same} "
            "AND NEW.answers::text = OLD.answers::text THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{_MESSAGE_ANSWERS}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER survey_responses_append_only BEFORE UPDATE OR DELETE ON survey_responses "
            "FOR EACH ROW EXECUTE FUNCTION mentorflow_answers_append_only()"
        )
        return
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (*_ANSWER_COLUMNS, "answers"))
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER meetings_no_{event.lower()} BEFORE {event} ON meetings "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE_MEETINGS}'); END"
        )
    op.execute(
        "CREATE TRIGGER survey_responses_no_update BEFORE UPDATE ON survey_responses "
        f"WHEN NOT (NEW.free_text IS NULL AND {same}) "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE_ANSWERS}'); END"
    )
    op.execute(
        "CREATE TRIGGER survey_responses_no_delete BEFORE DELETE ON survey_responses "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE_ANSWERS}'); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS meetings_append_only ON meetings")
        op.execute("DROP FUNCTION IF EXISTS mentorflow_meetings_append_only()")
        op.execute("DROP TRIGGER IF EXISTS survey_responses_append_only ON survey_responses")
        op.execute("DROP FUNCTION IF EXISTS mentorflow_answers_append_only()")
    else:
        for name in ("meetings_no_update", "meetings_no_delete", "survey_responses_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS survey_responses_no_delete")
    for row in bind.execute(sa.select(_answers).where(_answers.c.free_text.is_not(None))).all():
        merged = {**(row.answers or {}), **(row.free_text or {})}
        bind.execute(_answers.update().where(_answers.c.id == row.id).values(answers=merged))
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_column("free_text")
        batch_op.drop_column("entry_seq")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("entry_seq")
