"""What a manual match is checked against: the pool ``match propose`` would see, for chosen pairs.

:func:`engine.services.advance.advance` (``advance REL match --mentor ID``), its
batch form, and :func:`engine.services.replacing.replace_mentor` load one
:class:`PairCheck` per transaction and ask it about each pair; the rules
themselves are :func:`engine.matching.manual.check_pair`, the same
:func:`engine.matching.constraints.violations` that explains a proposal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from engine.domain.participants import Participant
from engine.errors import NotFoundError
from engine.matching.manual import Overrides, PairChecker
from engine.policy.model import Policy
from engine.store import participants as people_store
from engine.store import proposals as proposal_store
from engine.store import relationships as rel_store

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row


CHECKED = (
    "external_id", "email", "name", "role", "department", "manager_id", "level", "languages", "timezone",
    "capacity",
)  # fmt: skip
"""What :func:`engine.matching.manual.check_pair` reads of a participant (its ``key`` is the external id
or the email): only these are loaded, so a batch of thousands skips the lists only scores read."""


@dataclass
class PairCheck:
    """Everyone by id, earlier pairs, rejections and reporting lines, loaded once per transaction."""

    policy: Policy
    now: datetime
    people: dict[int, Participant]
    previous: frozenset[tuple[str, str]]
    rejected: dict[tuple[str, str], str]
    managers: dict[str, str]

    @classmethod
    def load(
        cls,
        conn: Connection,
        policy: Policy,
        now: datetime,
        mentee_ids: Iterable[int],
        mentor_ids: Iterable[int],
    ) -> PairCheck:
        """What the pairs of these mentees with these mentors are checked against: those people, their
        earlier pairs and rejections, and their reporting lines (not everyone's: a batch pays for its own)."""
        mentees = set(mentee_ids)
        pairs = rel_store.mentored_pairs(conn, mentees)
        rejections = proposal_store.rejected_pairs(conn, mentees)
        people = people_store.as_domain(
            conn, {*mentees, *mentor_ids, *(b for _, b in pairs), *(b for _, b, _ in rejections)}, CHECKED
        )
        key = {pid: p.key for pid, p in people.items()}
        lines = people_store.reporting_lines(conn, [p.external_id for p in people.values() if p.external_id])
        return cls(
            policy,
            now,
            people,
            frozenset((key[a], key[b]) for a, b in pairs),
            {(key[a], key[b]): reason or "" for a, b, reason in rejections},
            lines,
        )

    def check(
        self, mentee_id: int, mentor: Row[Any], ref: str, taken: int, allowed: Overrides
    ) -> list[tuple[str, str]]:
        """Refuse (RefusedError) the pair unless every broken constraint is overridden; the broken ones.

        ``taken`` is the mentor's open relationships that count against their capacity.
        """
        mentee, chosen = self.people.get(mentee_id), self.people.get(int(mentor.id))
        if mentee is None or chosen is None:
            raise NotFoundError(f"no participant {mentee_id if mentee is None else ref!r}")
        return self._checker.check(mentee, chosen, taken, allowed, lambda: f"{mentor.name} ({ref})")

    @cached_property
    def _checker(self) -> PairChecker:
        """:func:`engine.matching.manual.check_pair` for the pairs of this transaction, sharing one pool."""
        program = self.policy.program.timezone
        return PairChecker(
            self.policy.matching, self.now, program, self.previous, self.rejected, self.managers
        )


def mentor_data(mentor: Row[Any]) -> dict[str, Any]:
    """How an audit entry names a mentor: id and external id (or email)."""
    return {"mentor_id": int(mentor.id), "mentor": mentor.external_id or mentor.email}
