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

from engine.domain.participants import Constructed, Participant
from engine.errors import NotFoundError
from engine.matching.constraints import TRAIT_COLUMNS, Traits, traits
from engine.matching.manual import Overrides, PairChecker
from engine.policy.model import Policy
from engine.store import participants as people_store
from engine.store import proposals as proposal_store
from engine.store import relationships as rel_store
from engine.store.tables import LIST_FIELDS

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row


CHECKED = (
    "external_id", "email", "name", "role", "department", "manager_id", "level", "languages", "timezone",
    "capacity",
)  # fmt: skip
"""What :func:`engine.matching.manual.check_pair` reads of a participant (its ``key`` is the external id
or the email): only these are loaded, so a batch of thousands skips the lists only scores read."""

_COLUMNS = (*TRAIT_COLUMNS, *(name for name in CHECKED if name not in TRAIT_COLUMNS))
""":data:`CHECKED`, those :func:`engine.matching.constraints.traits` reads first, in its order: the
columns a participant is read with (their :class:`Traits` and the participant built from one row)."""
_KEY, _EMAIL = _COLUMNS.index("external_id"), _COLUMNS.index("email")


@dataclass
class PairCheck:
    """Everyone by id (their :data:`_COLUMNS`, as the store holds them), earlier pairs, rejections and
    reporting lines, loaded once per transaction."""

    policy: Policy
    now: datetime
    people: dict[int, tuple[Any, ...]]
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
        ids = {*mentees, *mentor_ids, *(b for _, b in pairs), *(b for _, b, _ in rejections)}
        people = people_store.rows_by_id(conn, sorted(ids), _COLUMNS)
        key = {pid: _key(values) for pid, values in people.items()}
        lines = people_store.reporting_lines(conn, [v[_KEY] for v in people.values() if v[_KEY]])
        return cls(
            policy,
            now,
            people,
            frozenset((key[a], key[b]) for a, b in pairs),
            {(key[a], key[b]): reason or "" for a, b, reason in rejections},
            lines,
        )

    def check(
        self, mentee_id: int, mentor: Row[Any], ref: str, taken: int, allowed: Overrides,
        mentor_id: int | None = None,
    ) -> list[tuple[str, str]]:  # fmt: skip
        """Refuse (RefusedError) the pair unless every broken constraint is overridden; the broken ones.

        ``taken`` is the mentor's open relationships that count against their capacity; ``mentor_id``
        their id where the caller knows it (read from ``mentor`` otherwise, a cost a batch pays per pair).
        """
        mentor_id = int(mentor.id) if mentor_id is None else mentor_id
        known = self._known
        mentee, chosen = known.get(mentee_id), known.get(mentor_id)
        if mentee is None or chosen is None:
            raise NotFoundError(f"no participant {mentee_id if mentee is None else ref!r}")
        checker = self._checker
        if checker.passes(mentee, chosen, taken):
            return []
        who = lambda: f"{mentor.name} ({ref})"  # noqa: E731
        return checker.check(self._participant(mentee_id), self._participant(mentor_id), taken, allowed, who)

    def _participant(self, pid: int) -> Participant:
        """Participant ``pid`` as :func:`engine.store.participants.as_domain` reads them (lists as tuples)."""
        return self._construct(list(self.people[pid]))

    @cached_property
    def _known(self) -> dict[int, Traits]:
        """The :class:`Traits` of everyone loaded, by id."""
        managers = self.managers
        return {pid: traits(values, managers) for pid, values in self.people.items()}

    @cached_property
    def _construct(self) -> Constructed:
        return Constructed(_COLUMNS, LIST_FIELDS)

    @cached_property
    def _checker(self) -> PairChecker:
        """:func:`engine.matching.manual.check_pair` for the pairs of this transaction, sharing one pool."""
        program = self.policy.program.timezone
        return PairChecker(
            self.policy.matching, self.now, program, self.previous, self.rejected, self.managers
        )


def _key(values: tuple[Any, ...]) -> str:
    """A participant's ``key`` (:attr:`engine.domain.participants.Participant.key`) from their columns."""
    external_id: str | None = values[_KEY]
    return external_id if external_id is not None else values[_EMAIL]


def mentor_data(mentor: Row[Any]) -> dict[str, Any]:
    """How an audit entry names a mentor: id and external id (or ``#<id>``, never an address)."""
    from engine.domain.erasure import reference

    return {"mentor_id": int(mentor.id), "mentor": reference(mentor.external_id, int(mentor.id))}
