"""Personal links: issuing one for a pair's mentee or mentor, revoking them, opening one.

A link is a signed token (:mod:`engine.delivery.links`), stored nowhere: issuing
one writes nothing. Revoking writes one row to ``link_revocations`` (who, when,
why), and every link of that relationship or person issued at or before it stops
opening; a link issued afterwards opens. Opening a link only reads: a refused
link (tampered, expired, revoked, for another page or another person) writes
nothing, and neither does a link that opens, so opening one twice is harmless.

A revocation is not an entry of the relationship's audit chain: it changes no
phase, fact or message of the pair (the chain's hash inputs stay as they are),
and a person's revocation spans all their relationships. Its row is its record.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.delivery import links
from engine.delivery.links import PURPOSES, ROLES, Link, Refusal
from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.policy.durations import Duration
from engine.policy.links import DEFAULT_LINK_LIFETIME
from engine.settings import check_link_keys
from engine.store import links as link_store
from engine.store import participants as people_store
from engine.store.database import UnitOfWork
from engine.store.links import PairPeople

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class IssuedLink:
    """A fresh link: its address, its token, what it says, and when it stops opening."""

    url: str
    token: str
    link: Link
    participant_id: int
    expires_at: datetime


@dataclass(frozen=True)
class OpenedLink:
    """A link that opened: the relationship, the person it is for (now, as then), their role, the page."""

    relationship_id: int
    participant_id: int
    role: str
    purpose: str
    link: Link


@dataclass(frozen=True)
class Revocation:
    """A revocation recorded: its row's id, and the relationship or person whose links it withdrew."""

    id: int
    relationship_id: int | None
    participant_id: int | None
    revoked_at: datetime


def issue_link(
    store: Engine,
    rel_id: int,
    role: str,
    purpose: str,
    now: datetime,
    keys: tuple[str, ...],
    base_url: str | None,
    *,
    terminal: Collection[str],
    outbox_id: int | None = None,
    survey: str | None = None,
    lifetime: Duration = DEFAULT_LINK_LIFETIME,
) -> IssuedLink:
    """A new link for the mentee or mentor (``role``) of relationship ``rel_id``, to open ``purpose``.

    ``terminal``: the phases of the policy that a relationship never leaves (a closed pair gets no link);
    ``lifetime``: the policy's ``links.expire_after``, for when the link stops opening.
    Refused for an unknown relationship, a mentor link before the pair has a mentor, and a closed pair.
    Writes nothing.
    """
    _check_request(role, purpose, outbox_id, survey)
    keys = check_link_keys(keys)
    address = links.checked_base_url(base_url)
    with UnitOfWork(store, write=False) as uow:
        pair = link_store.pair_people(uow.conn, rel_id)
    if pair is None:
        raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
    if pair.phase in terminal:
        raise RefusedError(f"relationship {rel_id} is {pair.phase!r}: a closed pair gets no links")
    person = _person(pair, role)
    if person is None:
        raise RefusedError(f"relationship {rel_id} has no mentor yet: a mentor link needs a matched pair")
    link = Link(purpose, rel_id, role, links.binding(keys, person), now, outbox_id, survey)
    token = links.sign(link, keys)
    return IssuedLink(links.url(address, token), token, link, person, links.expires_at(link, lifetime))


def _check_request(role: str, purpose: str, outbox_id: int | None, survey: str | None) -> None:
    if role not in ROLES:
        raise InputError(f"{field('role')}: {role!r} is not one of {', '.join(ROLES)}")
    if purpose not in PURPOSES:
        raise InputError(f"{field('purpose')}: {purpose!r} is not one of {', '.join(PURPOSES)}")
    if (outbox_id is not None or survey is not None) and purpose != "survey":
        raise InputError(f"{field('survey')}: only a survey link names an outbox row or a survey")


def _person(pair: PairPeople, role: str) -> int | None:
    return pair.mentee_id if role == "mentee" else pair.mentor_id


def revoke_links(
    store: Engine,
    now: datetime,
    actor: str,
    *,
    relationship: int | None = None,
    participant: str | None = None,
    reason: str | None = None,
) -> Revocation:
    """Revoke every link issued until ``now`` of ``relationship``, or of ``participant`` (an id, external
    id or email) in every relationship; one row records who, when and why."""
    if (relationship is None) == (participant is None):
        raise InputError("name either a relationship or a participant whose links to revoke")
    text = reason.strip() if reason and reason.strip() else None
    if text is not None and "\x00" in text:
        raise InputError(f"{field('reason')}: holds a NUL character")
    with UnitOfWork(store) as uow:
        person_id = None
        if participant is not None:
            row = people_store.participant_by_ref(uow.conn, participant)
            if row is None:
                raise NotFoundError(f"no participant {participant!r} (give an id, external id or email)")
            person_id = int(row.id)
        elif link_store.pair_people(uow.conn, relationship or 0) is None:
            raise NotFoundError(f"no relationship {relationship} (see `mentorflow relationships list`)")
        new_id = link_store.insert_revocation(
            uow.conn, relationship_id=relationship, participant_id=person_id,
            revoked_at=now, revoked_by=actor, reason=text,
        )  # fmt: skip
        uow.commit()
    return Revocation(new_id, relationship, person_id, now)


def open_link(
    store: Engine,
    token: str,
    purpose: str,
    now: datetime,
    keys: tuple[str, ...],
    lifetime: Duration = DEFAULT_LINK_LIFETIME,
) -> OpenedLink | Refusal:
    """What the link ``token`` opens on the page for ``purpose`` at ``now``, or why it does not
    (``lifetime``: the policy's ``links.expire_after``).

    Refusals, in the order they are checked: ``tampered``, ``wrong_purpose``, ``expired``; then
    ``wrong_person`` (the pair's mentee or mentor is no longer the person the link was made for, or the
    relationship is gone) and ``revoked``. Only reads.
    """
    return open_links(store, [(token, purpose)], now, keys, lifetime)[0]


def open_links(
    store: Engine,
    tokens: Sequence[tuple[str, str]],
    now: datetime,
    keys: tuple[str, ...],
    lifetime: Duration = DEFAULT_LINK_LIFETIME,
) -> list[OpenedLink | Refusal]:
    """:func:`open_link` of each (token, purpose) of ``tokens``, in their order: the same refusals, checked
    in the same order, with the store read in one transaction of a few statements however many links
    there are (a simulated day's participants open theirs at once). Only reads."""
    read = [links.read(token, purpose, now, keys, lifetime) for token, purpose in tokens]
    genuine = [link for link in read if isinstance(link, Link)]
    if not genuine:
        return [refusal for refusal in read if isinstance(refusal, Refusal)]  # all of them refused
    with UnitOfWork(store, write=False) as uow:
        pairs = link_store.pairs_people(uow.conn, {link.relationship_id for link in genuine})
        people = {
            person
            for pair in pairs.values()
            for person in (pair.mentee_id, pair.mentor_id)
            if person is not None
        }
        revoked = link_store.latest_revocations(uow.conn, pairs, people)
    return [link if isinstance(link, Refusal) else _opened(link, pairs, revoked, keys) for link in read]


def _opened(
    link: Link,
    pairs: dict[int, PairPeople],
    revoked: tuple[dict[int, datetime], dict[int, datetime]],
    keys: tuple[str, ...],
) -> OpenedLink | Refusal:
    """What a genuine, unexpired ``link`` opens, given the pairs' people and the latest revocations (of
    relationships, of people) that :func:`open_links` read: ``wrong_person`` first, then ``revoked``."""
    pair = pairs.get(link.relationship_id)
    person = None if pair is None else _person(pair, link.role)
    if person is None or not links.is_for(link, person, keys):
        return Refusal("wrong_person")
    of_pair, of_person = revoked[0].get(link.relationship_id), revoked[1].get(person)
    latest = max((at for at in (of_pair, of_person) if at is not None), default=None)
    if latest is not None and link.issued_at <= latest:
        return Refusal("revoked")
    return OpenedLink(link.relationship_id, person, link.role, link.purpose, link)


def link_actor(external_id: str | None, participant_id: int) -> str:
    """Who the audit history says recorded what a participant sent from their personal link:
    ``participant:{external id} via link``, or ``participant:#{id} via link`` for one without."""
    who = external_id if external_id else f"#{participant_id}"
    return f"participant:{who} via link"
