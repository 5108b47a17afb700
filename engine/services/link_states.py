"""The personal links a pair's messages carried, and where each stands now: pure, over rows read.

A message to the mentee or mentor carries a link for each purpose :func:`~engine.delivery.messages.
link_purposes` names, issued at its outbox row's ``created_at`` and opening for the link lifetime after
(:data:`~engine.delivery.links.LINK_LIFETIME` unless the policy says, ``links.expire_after``). A link's
state is the first of these that holds:

- ``revoked``: the pair's links, or those of the person it was made for, were revoked at or after its
  issue (as :func:`engine.services.links.open_link` refuses it);
- ``expired``: its lifetime has passed;
- ``replaced``: it was made for a mentor the pair no longer has (it opens for nobody);
- ``used``: what it asks was recorded: a survey link's survey answered by that respondent in the stay
  it was sent in; a kickoff link's kickoff recorded; a training link's mentor trained (the pages' own
  rule: once is enough, so a link to something already done is ``used`` too). A meeting or help link
  stays usable; a meeting link counts the meetings recorded since its issue;
- ``pair closed``: the pair is in a terminal phase (where no meeting, kickoff, training or help is
  recorded), except for a survey link sent on entering it: the closing survey is still answered;
- ``opens``: otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.delivery import session_texts
from engine.delivery.links import LINK_LIFETIME, ROLES
from engine.delivery.messages import IMPLIED_RECIPIENTS, OutboxRow, link_purposes
from engine.domain.relationships import AuditEntry
from engine.policy.durations import Duration
from engine.policy.vocabulary import RECORD_TRIGGERS, REPLACE_MENTOR

STATES = ("revoked", "expired", "replaced", "used", "pair closed", "opens")
"""Every state a link is shown in, in the order they are checked."""
DELIVERED = "delivered"
_ENTRY_KEY = re.compile(r"^rel:\d+:entry:(\d+):")


@dataclass(frozen=True)
class Message:
    """An outbox row of the pair and the roles it reached (its recorded deliveries), as read."""

    row: OutboxRow
    status: str
    reached: frozenset[str]


@dataclass(frozen=True)
class MentorChange:
    """A ``replace_mentor`` entry: when, its seq, and the mentor before and after."""

    at: datetime
    seq: int
    old: int | None
    new: int | None


@dataclass(frozen=True)
class PairFacts:
    """What a pair's links' states depend on, read once for the pair.

    ``stays``: (seq, at) of each entry that began a stay in a phase (one that moved the phase), oldest
    first; ``meetings``: (kind, recorded at) and ``answers``: (survey, respondent, answered at, seq of
    its entry) of the records not taken back; ``people``: name and trained of everyone a link may be
    for (mentors before a replacement too); ``revoked_pair`` and ``revoked_people``: the latest
    revocation of the pair's links and of each person's.
    """

    mentee_id: int
    mentor_id: int | None
    closed: bool
    people: Mapping[int, tuple[str, bool]]
    stays: Sequence[tuple[int, datetime]] = ()
    changes: Sequence[MentorChange] = ()
    meetings: Sequence[tuple[str, datetime]] = ()
    answers: Sequence[tuple[str, str, datetime, int | None]] = ()
    revoked_pair: datetime | None = None
    revoked_people: Mapping[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkState:
    """One personal link a message carried: for whom, what it opens, when it was issued and stops, and
    its state (one of :data:`STATES`); ``meetings_since``: a meeting link's meetings recorded since."""

    outbox_id: int
    action: str
    role: str
    participant_id: int | None
    name: str
    purpose: str
    issued_at: datetime
    expires_at: datetime
    state: str
    meetings_since: int | None = None


def stays_and_changes(
    entries: Sequence[AuditEntry],
) -> tuple[list[tuple[int, datetime]], list[MentorChange]]:
    """From a pair's audit entries: (seq, at) of each that began a stay (an entry that is not a recorded
    fact), and each replacement of its mentor."""
    stays = [(entry.seq, entry.at) for entry in entries if entry.trigger not in RECORD_TRIGGERS]
    changes = [
        MentorChange(
            entry.at, entry.seq, _id(entry.data.get("old_mentor_id")), _id(entry.data.get("mentor_id"))
        )
        for entry in entries
        if entry.trigger == REPLACE_MENTOR
    ]
    return stays, changes


def _id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def link_states(
    messages: Sequence[Message],
    facts: PairFacts,
    now: datetime,
    lifetime: Duration | timedelta = LINK_LIFETIME,
) -> list[LinkState]:
    """Each link the ``messages`` carried (in their order, then by role and purpose), in its state at
    ``now`` for a link ``lifetime``."""
    return [
        _state(message.row, role, purpose, facts, now, lifetime)
        for message in messages
        for role in _reached(message)
        for purpose in link_purposes(message.row, role)
    ]


def _reached(message: Message) -> tuple[str, ...]:
    """The mentee and mentor a message went to: its recorded deliveries; a row delivered before they were
    recorded, its recipients."""
    reached = [role for role in ROLES if role in message.reached]
    if not message.reached and message.status == DELIVERED:
        named = message.row.params.get("recipient")
        implied = (named,) if named is not None else IMPLIED_RECIPIENTS.get(message.row.action, ())
        reached = [role for role in ROLES if role in implied]
    return tuple(reached)


def _state(
    row: OutboxRow, role: str, purpose: str, facts: PairFacts, now: datetime, lifetime: Duration | timedelta
) -> LinkState:
    issued = session_texts.issued_at(row, purpose)  # a session's link opens from its start
    person = facts.mentee_id if role == "mentee" else mentor_at(row, facts)
    expires = lifetime.after(issued) if isinstance(lifetime, Duration) else issued + lifetime
    since = sum(1 for kind, at in facts.meetings if kind != "kickoff" and at >= issued)
    state = _which(row, role, purpose, person, facts, now, expires)
    name = facts.people.get(person, ("", False))[0] if person is not None else ""
    return LinkState(
        row.id, row.action, role, person, name, purpose, issued, expires, state,
        since if purpose == "meeting" else None,
    )  # fmt: skip


def _which(
    row: OutboxRow,
    role: str,
    purpose: str,
    person: int | None,
    facts: PairFacts,
    now: datetime,
    expires: datetime,
) -> str:
    issued = row.created_at
    latest = [at for at in (facts.revoked_pair, facts.revoked_people.get(person or 0)) if at is not None]
    if latest and issued <= max(latest):
        return "revoked"
    if now > expires:
        return "expired"
    if role == "mentor" and person != facts.mentor_id:
        return "replaced"
    if _used(row, role, purpose, person, facts):
        return "used"
    if facts.closed and not (purpose == "survey" and stay_of(row, facts.stays).ended is None):
        return "pair closed"
    return "opens"


def _used(row: OutboxRow, role: str, purpose: str, person: int | None, facts: PairFacts) -> bool:
    if purpose == "survey":
        survey, stay = row.params.get("survey"), stay_of(row, facts.stays)
        return any(
            name == survey and who == role and stay.holds(at, seq) for name, who, at, seq in facts.answers
        )
    if purpose == "kickoff":
        return any(kind == "kickoff" for kind, _ in facts.meetings)
    if purpose == "training":
        return person is not None and facts.people.get(person, ("", False))[1]
    return False


@dataclass(frozen=True)
class Stay:
    """A stay in a phase: the seq and moment of the entry that began it and of the one that ended it
    (``None``: it goes on, or, for the seqs, not known)."""

    began_seq: int | None
    began: datetime
    ended_seq: int | None
    ended: datetime | None

    def holds(self, at: datetime, seq: int | None) -> bool:
        """Whether a record of entry ``seq`` (``None``: not known) at ``at`` was made in this stay: by
        the entries' order where both are known (a simulated clock may stand still), else by time."""
        if seq is not None and self.began_seq is not None:
            return self.began_seq < seq and (self.ended_seq is None or seq < self.ended_seq)
        return self.began <= at and (self.ended is None or at < self.ended)


def stay_of(row: OutboxRow, stays: Sequence[tuple[int, datetime]]) -> Stay:
    """The stay ``row`` was written in: the one its key names (``rel:ID:entry:SEQ:...``, as every row of
    a phase change or of the tick has it), else the one its ``created_at`` falls in."""
    seq = _entry_seq(row.key)
    known = [at for entry_seq, at in stays if entry_seq == seq]
    if seq is not None and known:
        later = [(s, at) for s, at in stays if s > seq]
        return Stay(seq, known[0], later[0][0] if later else None, later[0][1] if later else None)
    moment = row.created_at
    begun = max((at for _, at in stays if at <= moment), default=moment)
    ended = min((at for _, at in stays if at > moment), default=None)
    return Stay(None, begun, None, ended)


def mentor_at(row: OutboxRow, facts: PairFacts) -> int | None:
    """Who the pair's mentor was when ``row`` was written: the one before the first replacement after it
    (one at the same moment counts as after only if its entry follows the one the row's key names)."""
    row_seq = _entry_seq(row.key)
    for change in facts.changes:
        after = change.at > row.created_at or (
            change.at == row.created_at and row_seq is not None and change.seq > row_seq
        )
        if after:
            return change.old
    return facts.mentor_id


def _entry_seq(key: str) -> int | None:
    found = _ENTRY_KEY.match(key)
    return int(found.group(1)) if found else None
