"""Applying a new version of a policy: the deliberate step that makes it the one in force.

A policy's relationships stay under the version in force (:func:`version_in_force`) until an
operator applies another: every relationship of the policy that is not in a terminal phase gets
an audit entry under the new version, ``due_at`` recomputed by its rules, in one transaction
with the application's row. A relationship in a phase the new version no longer has is
stranded: the application is refused until a mapping names a phase of the new version for it,
and a mapped one moves there (trigger ``policy_mapped``); the others stay where they are
(trigger ``policy_applied``, a recorded fact). A migration sends none of the new phase's
``on_enter`` messages: the pair did nothing, the program's rules changed.

Commands check the version they were given against the one in force (:func:`check_in_force`),
so a changed file never applies by itself; ``pinned`` keeps the old behaviour for scripts.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.cadence import Standing, next_due
from engine.domain.change_rows import RowUpdate
from engine.domain.changes import Cause, Mover
from engine.domain.phase_time import earlier
from engine.errors import ConfigError, InputError
from engine.errors import field as named
from engine.policy.model import Policy
from engine.policy.vocabulary import POLICY_APPLIED, POLICY_MAPPED
from engine.store import audit, records
from engine.store import policy_applications as applied_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.policy_applications import Application
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock


class PolicyVersionError(InputError):
    """A command given a version of a policy other than the one in force. Exit 2."""


@dataclass(frozen=True)
class ApplyRequest:
    """An operator's application of ``policy``: removed phases mapped to its phases, who, and why."""

    policy: Policy
    actor: str
    mapping: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class Applied:
    """What an application wrote: its row, and the relationships it moved (id -> (old, new phase))."""

    application: Application
    moved: dict[int, tuple[str, str]]


def version_in_force(store: Engine, policy_name: str) -> str | None:
    """The digest of the version of ``policy_name`` in force (``None``: none is known yet)."""
    with UnitOfWork(store, write=False) as uow:
        return applied_store.version_in_force(uow.conn, policy_name)


def check_in_force(store: Engine, policy: Policy, *, pinned: bool = False, source: str | None = None) -> None:
    """Refuse ``policy`` (read from the file ``source``) if another version of it is in force (unless
    ``pinned``: any version acts)."""
    if pinned:
        return
    in_force = version_in_force(store, policy.policy)
    if in_force is None or in_force == policy.digest:
        return
    raise PolicyVersionError(
        f"policy {policy.policy!r} version {policy.digest[7:19]} is not the version in force for its "
        f"relationships ({in_force[7:19]}): nothing was done",
        [
            f"see what it would change: mentorflow policy plan {shlex.quote(source or 'NEW.yaml')}",
            f"then make it the version in force: mentorflow policy apply {shlex.quote(source or 'NEW.yaml')}",
        ],
    )


PINNED_VARIABLE = "MENTORFLOW_POLICY_VERSION_PINNED"
"""Set (``1``, ``true``, ``yes``, ``on``) by ``mentorflow --policy-version-pinned`` or by a script: any
version of a policy acts on its relationships, as before ``policy apply`` existed."""


def pinned() -> bool:
    """Whether :data:`PINNED_VARIABLE` asks for any version to act (``0``, ``false``, ``no``, ``off`` or
    empty read as off)."""
    return os.environ.get(PINNED_VARIABLE, "").strip().lower() not in ("", "0", "false", "no", "off")


def check_store_in_force(url: str, policy: Policy, source: str | None = None) -> None:
    """:func:`check_in_force` of the store at ``url``, pinned as the environment says; a store that is not
    there or not initialised at this revision has nothing in force (the command says so itself)."""
    from engine.services.setup import open_store

    if pinned():
        return
    try:
        store = open_store(url)
    except ConfigError:
        return
    try:
        check_in_force(store, policy, source=source)
    finally:
        store.dispose()


def applications(store: Engine, policy_name: str | None = None) -> list[Application]:
    """The applications of ``policy_name`` (of every policy if ``None``), oldest first."""
    with UnitOfWork(store, write=False) as uow:
        return applied_store.applications(uow.conn, policy_name)


def apply_policy(store: Engine, clock: Clock, request: ApplyRequest) -> Applied:
    """Make ``request.policy`` the version in force, or raise InputError saying why not (nothing written)."""
    policy, now = request.policy, clock.now()
    with UnitOfWork(store) as uow:
        conn = uow.conn
        before = applied_store.version_in_force(conn, policy.policy)
        if before == policy.digest:
            raise InputError(f"policy {policy.policy!r} version {policy.digest[7:19]} is already in force")
        ids = [rid for rid, _, _ in rel_store.standings(conn, policy.policy)]
        rows = list(rel_store.relationship_rows(conn, ids, lock=True).values())
        old_phases = _old_phases(applied_store.version_content(conn, before) if before else None)
        mapping = _checked_mapping(request.mapping, policy, old_phases, {row.phase for row in rows})
        _refuse_stranded(rows, policy, mapping)
        data = {"from_version": before, "to_version": policy.digest, "mapped": dict(mapping)}
        causes = (
            Cause(request.actor, POLICY_APPLIED, request.reason, data),
            Cause(request.actor, POLICY_MAPPED, request.reason, data),
        )
        updates, entries, moved = _migration(
            rows, policy, now, mapping, causes, records.last_meetings(conn, now)
        )
        rel_store.apply_moves(conn, updates, entries, [])
        audit.record_policy_version(conn, policy, now)
        application = Application(
            0,
            policy.policy,
            before,
            policy.digest,
            now,
            request.actor,
            request.reason,
            dict(mapping),
            len(entries),
        )
        application = application._replace(id=applied_store.record_application(conn, application))
        uow.commit()
    return Applied(application, moved)


def _migration(
    rows: list[RelationshipRow],
    policy: Policy,
    now: datetime,
    mapping: Mapping[str, str],
    causes: tuple[Cause, Cause],
    last: dict[int, datetime],
) -> tuple[list[RowUpdate], list[dict[str, Any]], dict[int, tuple[str, str]]]:
    """The row updates and entries of the migration: a mapped relationship moves (the second cause), an
    open one stays (the first); ``last``: the relationships' last meetings."""
    mover, (stays, moves) = Mover(policy, now), causes
    updates: list[RowUpdate] = []
    entries: list[dict[str, Any]] = []
    moved: dict[int, tuple[str, str]] = {}
    for rel in rows:
        if rel.phase in mapping:
            change = mover.change(rel, mapping[rel.phase], moves, last_meeting_at=last.get(rel.id))
            updates.append(change.update)
            entries.append(change.entry)
            moved[rel.id] = (rel.phase, mapping[rel.phase])
        elif not policy.phases[rel.phase].terminal:
            entry = mover.entry(rel.id, rel.audit_seq + 1, rel.audit_head, rel.phase, rel.phase, stays)
            updates.append(_staying(rel, policy, entry, last.get(rel.id)))
            entries.append(entry)
    return updates, entries, moved


def _staying(
    rel: RelationshipRow, policy: Policy, entry: dict[str, Any], last_meeting_at: datetime | None
) -> RowUpdate:
    """The row of a relationship that stays in its phase: its stay kept, its due time by the new rules."""
    before = earlier(rel.phase_clock, rel.phase)
    standing = Standing(rel.phase, rel.phase_entered_at, last_meeting_at, before.spent, before.first_entered)
    return RowUpdate(
        rel.id, rel.version, rel.phase, rel.phase_entered_at, next_due(policy, standing), rel.mentor_id,
        entry["seq"], entry["hash"], rel.phase_clock,
    )  # fmt: skip


def _old_phases(content: dict[str, Any] | None) -> set[str]:
    """The phases of the version in force, from its snapshot (none known: empty)."""
    phases = (content or {}).get("phases")
    return set(phases) if isinstance(phases, dict) else set()


def _checked_mapping(
    mapping: Mapping[str, str], policy: Policy, old_phases: set[str], occupied: set[str]
) -> dict[str, str]:
    """``mapping``, every OLD a phase of the old version or one a relationship is in, every NEW a phase
    of ``policy``; InputError naming each that is not."""
    problems = []
    for old, new in mapping.items():
        if old not in old_phases | occupied:
            known = ", ".join(sorted(old_phases | occupied)) or "none"
            problems.append(
                f"{named('map')} {old}={new}: {old!r} is neither a phase of the version in force nor one a "
                f"relationship is in (those are: {known})"
            )
        if new not in policy.phases:
            problems.append(
                f"{named('map')} {old}={new}: {new!r} is not a phase of the new version "
                f"(its phases: {', '.join(policy.phases)})"
            )
    if problems:
        raise InputError(
            f"{named('map')}: {len(problems)} mapping(s) cannot apply; nothing was written", problems
        )
    return dict(mapping)


def _refuse_stranded(rows: list[RelationshipRow], policy: Policy, mapping: Mapping[str, str]) -> None:
    """InputError if a relationship is in a phase ``policy`` has not and ``mapping`` does not map."""
    stranded: dict[str, list[int]] = {}
    for rel in rows:
        if rel.phase not in policy.phases and rel.phase not in mapping:
            stranded.setdefault(rel.phase, []).append(rel.id)
    if not stranded:
        return
    count = sum(map(len, stranded.values()))
    problems = [
        f"{phase!r}: relationship(s) {', '.join(map(str, ids))}" for phase, ids in sorted(stranded.items())
    ]
    hint = " ".join(f"{named('map')} {phase}=PHASE" for phase in sorted(stranded))
    problems.append(f"map each to a phase of the new version ({', '.join(policy.phases)}): {hint}")
    raise InputError(
        f"{count} relationship(s) would be stranded in phases version {policy.digest[7:19]} of policy "
        f"{policy.policy!r} no longer has; nothing was written",
        problems,
    )
