"""The simulated participants' personal links: each records what they did through their own link.

A real participant confirms a meeting or their training, or answers a survey, on the page the
personal link of their message opens (``mentorflow web``); the page opens the link with
:func:`engine.services.links.open_link` and records through the services with the actor
``participant:{external id} via link`` (:func:`engine.services.links.link_actor`). A simulated one
does the same without a browser: the link their message carries (its purpose, relationship, role
and survey, bound to them) is signed with the program's link keys, opened with
:func:`engine.services.links.open_links` (one call for all of a day's visits of a kind), and what
they record carries the actor of the person it opened for. So the audit history of a simulated
program shows who recorded what as that of a real one with links does.

A link that does not open is a bug of the simulation (a wrong person, key or purpose), never the
participant's doing: it raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from engine.delivery import links
from engine.delivery.links import Link, Refusal
from engine.policy.model import Policy
from engine.services.links import OpenedLink, link_actor, open_links
from engine.store import participants as people_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class Visit:
    """A participant opening the link of their message: the page (``purpose``) of one relationship, as
    its mentee or mentor (``role``); ``survey``: the survey a survey link names."""

    relationship_id: int
    role: str
    participant_id: int
    purpose: str
    survey: str | None = None


def actors(
    store: Engine, policy: Policy, keys: tuple[str, ...], now: datetime, visits: Sequence[Visit]
) -> list[str]:
    """Each visitor's link signed and opened at ``now``; the actor of what each records, in order.

    Raises RuntimeError, naming the visit and the refusal, for a link that does not open.
    """
    if not visits:
        return []
    tokens = [(links.sign(_link(visit, keys, now), keys), visit.purpose) for visit in visits]
    opened = open_links(store, tokens, now, keys, policy.link_lifetime)
    for visit, result in zip(visits, opened, strict=True):
        if isinstance(result, Refusal):
            raise RuntimeError(
                f"the simulated {visit.role} of relationship {visit.relationship_id} could not open their "
                f"{visit.purpose} link: {result.kind} (a bug of the simulation)"
            )
    people = [result.participant_id for result in opened if isinstance(result, OpenedLink)]
    with UnitOfWork(store, write=False) as uow:
        found = people_store.values_by_id(uow.conn, people, ["external_id"])
    return [link_actor(found.get(person, {}).get("external_id"), person) for person in people]


def _link(visit: Visit, keys: tuple[str, ...], now: datetime) -> Link:
    """The link a message to the visitor carries, issued ``now`` (a message written today)."""
    bound = _binding(keys, visit.participant_id)
    return Link(visit.purpose, visit.relationship_id, visit.role, bound, now, None, visit.survey)


@lru_cache(maxsize=4096)
def _binding(keys: tuple[str, ...], participant_id: int) -> str:
    """:func:`engine.delivery.links.binding`, worked out once per person: the same people visit their
    links day after day, under the same keys."""
    return links.binding(keys, participant_id)
