"""The group sessions' figures recomputed from the audit export alone, apart from the engine's code.

Follows the definitions in :mod:`engine.reporting.session_figures`' docstring and the README: a
``session_invited`` record invites the roles it names of its pair to one session (of a series,
starting at a time); an invitation (one role, one session) stands at the latest
``record_attendance`` record for that session and role, unknown without one. Only sessions that
began by the report's moment count. Per series of the policy (then any other series the records
name, by name): the distinct sessions, the invitations, attended, absent, unknown, and the share
attended of the answered; and the mean pair satisfaction of the pairs whose people attended one
against the pairs invited to one whose people attended none.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from engine.policy.model import Policy

SESSION_TRIGGERS = ("session_invited", "record_attendance")


def note_session(invitations: dict[tuple[int, str], list[Any]], record: dict[str, Any]) -> None:
    """Note a ``session_invited`` or ``record_attendance`` record in ``invitations``
    ((session id, role) -> [series, starts at, attended or None])."""
    if record["trigger"] == "session_invited":
        session = record["data"]["session"]
        for role in session["invited"]:
            key = (session["id"], role)
            if key not in invitations:
                invitations[key] = [session["series"], datetime.fromisoformat(session["starts_at"]), None]
        return
    said = record["data"]["attendance"]
    key = (said["session"], said["respondent"])
    if key in invitations:
        invitations[key][2] = said["attended"]


def _fig(value: Any, ids: Any, **extra: Any) -> dict[str, Any]:
    return {"value": value, **extra, "relationships": sorted(set(ids))}


def session_figures(
    per_pair: dict[int, dict[tuple[int, str], list[Any]]],
    satisfied: dict[int, float | None],
    policy: Policy,
    moment: datetime,
) -> dict[str, Any]:
    """The ``sessions`` figure, from each pair's invitations as :func:`note_session` noted them and
    each pair's satisfaction (``None`` without an answer)."""
    held = [
        (rel, session_id, series, attended)
        for rel, found in sorted(per_pair.items())
        for (session_id, _), (series, starts_at, attended) in found.items()
        if starts_at <= moment
    ]
    names = list(policy.sessions or {})
    names += sorted({series for _, _, series, _ in held} - set(names))
    rows = []
    for name in names:
        mine = [(rel, sid, said) for rel, sid, series, said in held if series == name]
        counted = {
            key: [rel for rel, _, said in mine if said is value]
            for key, value in (("attended", True), ("absent", False), ("unknown", None))
        }
        answered = counted["attended"] + counted["absent"]
        rows.append({
            "series": name,
            "title": policy.sessions[name].title if policy.sessions and name in policy.sessions else name,
            "sessions": _fig(len({sid for _, sid, _ in mine}), [rel for rel, _, _ in mine]),
            "invited": _fig(len(mine), [rel for rel, _, _ in mine]),
            **{key: _fig(len(rels), rels) for key, rels in counted.items()},
            "share_attended": _fig(
                round(len(counted["attended"]) / len(answered), 4) if answered else None, answered
            ),
        })  # fmt: skip
    came = {rel for rel, _, _, said in held if said is True}
    never = {rel for rel, _, _, _ in held} - came
    groups = {}
    for group, members in (("attended", came), ("not_attended", never)):
        given = {rel: satisfied[rel] for rel in sorted(members) if satisfied.get(rel) is not None}
        values = [v for v in given.values() if v is not None]
        groups[group] = _fig(statistics.mean(values) if values else None, given, n=len(values))
    return {"series": rows, "satisfaction": groups}
