"""The group sessions' figures: per series, the sessions held, who was invited and who came.

Read from the pairs' chains (:class:`engine.reporting.outcomes.SessionInvitation`): a
``session_invited`` entry invites the roles it names (mentor, mentee) of its pair to one
session, of a series, starting at a time; an invitation is one role of one pair at one
session. It stands at the latest ``record_attendance`` entry for that session and role
(attended or absent; a correction replaces the answer) and is unknown without one. Only
sessions that began by the report's moment count. Per series of the policy, in its order,
then any series only the history names (by name):

- ``sessions``: the distinct sessions, with the pairs invited to them;
- ``invited``: the invitations; ``attended``, ``absent``, ``unknown``: those that stand there;
  each with the pairs that have such an invitation;
- ``share_attended``: attended over attended plus absent (``null`` without answers).

``satisfaction`` compares, over every series, the mean pair satisfaction
(:func:`engine.reporting.metrics.pair_satisfaction`: the mean of the mentee's and the mentor's
latest answers) of the pairs whose people attended at least one session (``attended``) with that
of the pairs invited to at least one session that began whose people attended none
(``not_attended``, whether they said they were absent or said nothing); each counts only the pairs
with a satisfaction answer (``n``), ``null`` without any.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from engine.policy.model import Policy
from engine.reporting.outcomes import PairOutcome, SessionInvitation
from engine.reporting.stats import Figure, figure, mean

Invited = tuple[int, int, SessionInvitation]
"""An invitation as the figures count it: (relationship id, session id, the invitation)."""
STANDINGS = {"attended": True, "absent": False, "unknown": None}


def held_invitations(pairs: Sequence[PairOutcome], moment: datetime) -> list[Invited]:
    """Every invitation to a session that began by ``moment``, by relationship, session and role."""
    return [
        (pair.id, session_id, invitation)
        for pair in pairs
        for (session_id, _), invitation in sorted(pair.invitations.items())
        if invitation.starts_at <= moment
    ]


def group_sessions(
    pairs: Sequence[PairOutcome],
    policy: Policy,
    moment: datetime,
    satisfaction_of: Callable[[PairOutcome], float | None],
) -> dict[str, Any]:
    """The ``sessions`` figures: a row per series, and satisfaction by whether the pair's people came."""
    invited = held_invitations(pairs, moment)
    titles = {name: series.title for name, series in (policy.sessions or {}).items()}
    for name in sorted({invitation.series for _, _, invitation in invited} - set(titles)):
        titles[name] = name  # a series the policy no longer has: its name is all the history keeps
    return {
        "series": [
            _row(name, title, [i for i in invited if i[2].series == name]) for name, title in titles.items()
        ],
        "satisfaction": satisfaction_by_attendance(pairs, moment, satisfaction_of),
    }


def _row(name: str, title: str, invited: list[Invited]) -> dict[str, Any]:
    rels = [rel for rel, _, _ in invited]
    standing: dict[str, Figure] = {
        key: figure(
            sum(1 for _, _, i in invited if i.attended is said),
            (rel for rel, _, i in invited if i.attended is said),
        )
        for key, said in STANDINGS.items()
    }
    answered = standing["attended"]["value"] + standing["absent"]["value"]
    answering = standing["attended"]["relationships"] + standing["absent"]["relationships"]
    return {
        "series": name,
        "title": title,
        "sessions": figure(len({session for _, session, _ in invited}), rels),
        "invited": figure(len(invited), rels),
        **standing,
        "share_attended": figure(standing["attended"]["value"] / answered if answered else None, answering),
    }


def satisfaction_by_attendance(
    pairs: Sequence[PairOutcome], moment: datetime, satisfaction_of: Callable[[PairOutcome], float | None]
) -> dict[str, Figure]:
    """The mean satisfaction of the pairs whose people attended a session that began by ``moment``
    (``attended``), and of those invited to one whose people attended none (``not_attended``)."""
    invited = held_invitations(pairs, moment)
    came = {rel for rel, _, i in invited if i.attended}
    groups = {"attended": came, "not_attended": {rel for rel, _, _ in invited} - came}
    result = {}
    for name, members in groups.items():
        given = {p.id: found for p in pairs if p.id in members and (found := satisfaction_of(p)) is not None}
        result[name] = figure(mean(list(given.values())), given, n=len(given))
    return result
