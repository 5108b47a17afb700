"""The checks a participants import makes against what the store already holds, before it writes anything.

Each raises with every problem it finds, each naming the row of the file (or the
participant already imported) it concerns: two participants with one email, a
reporting line that loops back on itself, a role change of someone with an open
relationship.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.domain.participants import Participant
from engine.errors import ParticipantsError, RefusedError
from engine.policy.model import Policy
from engine.store import participants as people_store

if TYPE_CHECKING:
    from sqlalchemy import Connection, RowMapping

Matched = Sequence["RowMapping | None"]


def refuse_taken_emails(
    existing: Sequence[RowMapping], people: Sequence[Participant], matched: Matched, where: Sequence[str]
) -> None:
    """A participant whose (new) email another participant already has would break the import midway."""
    owners = {row["email"]: row for row in existing}
    clashes = []
    for person, row, place in zip(people, matched, where, strict=True):
        owner = owners.get(person.email)
        if owner is not None and (row is None or owner["id"] != row["id"]):
            clashes.append(
                f"{place}: participant {person.key}: email {person.email} already belongs to participant "
                f"{owner['external_id'] or owner['email']}"
            )
    if clashes:
        raise ParticipantsError("two participants cannot share an email; nothing was imported", clashes)


def refuse_manager_loops(
    existing: Sequence[RowMapping],
    people: Sequence[Participant],
    matched: Matched,
    given: frozenset[str],
    where: Sequence[str],
) -> None:
    """A reporting line that leads back to where it started (A's manager is B, B's is A), naming its rows."""
    manager = {row["external_id"]: row["manager_id"] for row in existing if row["external_id"]}
    place: dict[str, str] = {}
    for person, row, at in zip(people, matched, where, strict=True):
        ext = person.external_id or (row["external_id"] if row is not None else None)
        if ext is None:
            continue  # nobody can name them as manager: they close no loop
        place[ext] = at
        if row is None or "manager_id" in given:
            manager[ext] = person.manager_id
    loops = [loop for loop in _loops(manager) if any(name in place for name in loop)]
    if loops:
        raise ParticipantsError(
            "the reporting lines loop back on themselves; nothing was imported",
            [_describe(loop, place) for loop in loops],
        )


def _loops(manager: dict[str, str | None]) -> list[list[str]]:
    """Each cycle of the manager graph once, starting from its smallest external id."""
    found: dict[tuple[str, ...], list[str]] = {}
    for start in sorted(manager):
        path, seen = [start], {start}
        while (nxt := manager.get(path[-1])) is not None and nxt not in seen:
            path.append(nxt)
            seen.add(nxt)
        if nxt is not None and nxt in seen:
            loop = path[path.index(nxt) :]
            first = loop.index(min(loop))
            loop = loop[first:] + loop[:first]
            found.setdefault(tuple(loop), loop)
    return list(found.values())


def _describe(loop: list[str], place: dict[str, str]) -> str:
    line = " → ".join([*loop, loop[0]])
    rows = "; ".join(place.get(name, f"participant {name} (already imported)") for name in loop)
    return f"reporting-line loop {line} ({rows}): nobody can be their own manager's manager"


def refuse_role_changes(
    conn: Connection,
    policy: Policy,
    people: Sequence[Participant],
    matched: Matched,
    given: frozenset[str],
    where: Sequence[str],
) -> None:
    """A mentor who becomes a mentee (or back) while a relationship of theirs is open."""
    if "role" not in given:
        return
    changing = [
        (person, row, at)
        for person, row, at in zip(people, matched, where, strict=True)
        if row is not None and row["role"] != person.role
    ]
    if not changing:
        return
    counts = people_store.open_relationship_counts(
        conn, [r["id"] for _, r, _ in changing], policy.terminal_phases
    )
    refused = [
        f"{at}: participant {person.key} ({person.name}) cannot change role from {row['role']} to "
        f"{person.role} while {counts[row['id']]} relationship(s) of theirs are open (close them first)"
        for person, row, at in changing
        if counts.get(row["id"], 0)
    ]
    if refused:
        raise RefusedError("a role cannot change while the participant has an open relationship", refused)
