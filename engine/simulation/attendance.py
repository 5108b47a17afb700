"""How the simulated people go to their group sessions, and say so through their links.

A day or few after a session began, each person invited to it says through
their session link whether they attended (:func:`engine.services.sessions.
record_attendances`, with the actor of their link, a day's in one call); some
never say. How likely someone attends follows their pair's style: the steady pairs' people come more
often than those of pairs that fade, so the report can show whether attending
goes with satisfaction.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.clock import SimulatedClock
from engine.policy.model import Policy
from engine.services.sessions import AttendanceSaid, record_attendances
from engine.simulation.behaviour import World
from engine.simulation.personal import Visit, actors
from engine.simulation.traits import pair_traits
from engine.store import sessions as session_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

ATTENDS = {"steady": 0.9, "irregular": 0.7, "fading": 0.45}  # by the pair's style
SAYS = 0.9  # who says at all, whether they came or not
WITHIN = timedelta(days=14)  # after this, those who did not say never will


def _rng(seed: int, *identity: object) -> random.Random:
    return random.Random("/".join(map(str, (seed, "sessions", *identity))))


def attend_sessions(store: Engine, policy: Policy, seed: int, world: World, keys: tuple[str, ...]) -> int:
    """Today's attendance said by those invited to the sessions of the past days; how many said."""
    if not policy.sessions:
        return 0
    with UnitOfWork(store, write=False) as uow:
        waiting = session_store.unrecorded(uow.conn, policy.policy, world.now - WITHIN, world.now)
    saying = []
    for invited, rel_id in waiting:
        rng = _rng(seed, invited.session_id, invited.participant_id)
        after = rng.randint(0, 4)  # days after the session they get to it
        says, came = rng.random() < SAYS, rng.random() < ATTENDS[pair_traits(seed, rel_id).style]
        if says and (world.now - invited.starts_at).days == after:
            saying.append((invited, rel_id, came))
    visits = [Visit(rel_id, invited.role, invited.participant_id, "session") for invited, rel_id, _ in saying]
    said = [
        AttendanceSaid(invited.session_id, str(invited.participant_id), came, actor)
        for (invited, _, came), actor in zip(
            saying, actors(store, policy, keys, world.now, visits), strict=True
        )
    ]
    if said:
        record_attendances(store, policy, SimulatedClock(world.now), said)
    return len(saying)
