"""Helpers of the contract suite: the example participants, and what the store holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Table, func, select

from engine.clock import Clock, SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.domain.relationships import AuditEntry
from engine.files.participants import parse_participants_csv
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services import advance as services
from engine.services import recording
from engine.services.participants import import_participants
from engine.store import goals as goal_store
from engine.store.tables import audit_entries, outbox, participants, relationships
from tests.design_policy import matching_merged

EXAMPLES = Path(__file__).parents[2] / "examples" / "participants.csv"

TRAINED_MENTOR = "E1004"  # Marieke de Vries: trained, capacity 3 (not E1001: Jeroen is above Zoë)
UNTRAINED_MENTOR = "E1003"  # Søren Ødegaard: not trained, capacity 3
SINGLE_MENTOR = "E1006"  # Anouk Jansen: trained, capacity 1
A_MENTEE = "E1102"  # Thijs Bakker


def example_people() -> list[Participant]:
    return parse_participants_csv(EXAMPLES)


def import_examples(store: Engine, policy: Policy, clock: Clock) -> list[int]:
    """Import examples/participants.csv; returns the relationships opened, one per mentee."""
    return import_participants(store, policy, clock, example_people(), actor="hr").relationships_opened


def fire(
    store: Engine,
    lifecycle: Lifecycle,
    clock: Clock,
    rel_id: int,
    trigger: str,
    *,
    mentor: str | None = None,
    reason: str | None = None,
    actor: str = "coordinator@example.com",
) -> AuditEntry:
    request = services.AdvanceRequest(rel_id, trigger, actor, reason=reason, mentor=mentor)
    return services.advance(store, lifecycle, clock, request)


def count(store: Engine, table: Table, rel_id: int | None = None) -> int:
    query = select(func.count()).select_from(table)
    if rel_id is not None:
        query = query.where(table.c.relationship_id == rel_id)
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Footprint:
    """What a write would change: the relationship rows' versions, and the audit and outbox rows."""

    versions: dict[int, int]
    audit: int
    outbox: int
    participants: int


def footprint(store: Engine) -> Footprint:
    with store.connect() as conn:
        versions = dict(conn.execute(select(relationships.c.id, relationships.c.version)).all())
    return Footprint(versions, count(store, audit_entries), count(store, outbox), count(store, participants))


def outbox_rows(store: Engine, rel_id: int) -> list[dict[str, object]]:
    query = select(outbox).where(outbox.c.relationship_id == rel_id).order_by(outbox.c.id)
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def final_answers(store: Engine, rel_id: int, satisfaction: int = 4) -> dict[str, object]:
    """Valid answers to the standard final survey: a level for each of the mentee's goals."""
    with store.connect() as conn:
        goals = goal_store.mentee_goals(conn, [rel_id]).get(rel_id, [])
    return {
        "satisfaction": satisfaction,
        "recommend": 2 * satisfaction,
        "met_regularly": True,
        "goals": ["partly"] * len(goals),
    }


def answer_final(store: Engine, policy: Policy, clock: Clock, rel_id: int, respondent: str) -> None:
    """The ``respondent`` answers the final survey of ``rel_id`` (sent on entering review)."""
    answers = final_answers(store, rel_id)
    recording.record_survey(store, policy, clock, rel_id, "final", respondent, answers, actor=respondent)


_PAUSED_LINES = ("  paused:", "    description: Meetings", "    on_enter: [notify_coordinator]",
                 "    deadline: {after: 3 months", "  - {trigger: pause", "  - {trigger: resume")  # fmt: skip


def without_paused_text() -> str:
    """The shipped with-pause policy (version 2) as version 3, same name, with its ``paused`` phase (and
    the transitions into and out of it) taken out: what an operator who drops the phase writes."""
    text = Path(shipped_policies()["with-pause"]).read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.startswith(_PAUSED_LINES)]
    return "\n".join(kept).replace("version: 2", "version: 3") + "\n"


def to_active(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, rel_id: int
) -> None:
    """Walk ``rel_id`` from intake to active: matched with a trained mentor, kickoff held, started."""
    fire(store, lifecycle, clock, rel_id, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel_id, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel_id, "kickoff", None, actor="coordinator")
    fire(store, lifecycle, clock, rel_id, "start")


def to_review(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, rel_id: int
) -> None:
    """Walk ``rel_id`` from intake to review: matched with a trained mentor, kickoff held, six months on."""
    to_active(store, policy, lifecycle, clock, rel_id)
    clock.set(policy.program.duration.after(clock.now()))
    fire(store, lifecycle, clock, rel_id, "review")


def paused_first_pair(store: Engine, clock: SimulatedClock) -> tuple[Policy, list[int]]:
    """The example mentees under the shipped with-pause policy, the first pair active, then paused."""
    policy = load_policy(shipped_policies()["with-pause"])
    rels = import_examples(store, policy, clock)
    walk = Lifecycle(policy)
    to_active(store, policy, walk, clock, rels[0])
    fire(store, walk, clock, rels[0], "pause", reason="parental leave")
    return policy, rels


def default_with_matching(section: str) -> str:
    """The shipped default policy's text with ``section`` merged into its ``matching:`` block."""
    return matching_merged(Path(shipped_policies()["default"]).read_text(encoding="utf-8"), section)
