"""What the operator lists: participants, relationships, one relationship's history, a few counts.

Rows are plain dicts, as the store reads them. :func:`history` and
:func:`relationships_at` take a URL, not an Engine: for SQLite and PostgreSQL they
read through the DB-API driver
(:mod:`engine.store.lite`) without importing SQLAlchemy, so ``mentorflow
history`` starts fast. Importing this module imports no store module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.policy.model import Policy
    from engine.policy.outline import Outline


def participants(store: Engine, role: str | None = None) -> list[dict[str, Any]]:
    """Every participant (or those of ``role``), by id."""
    from engine.store import reads

    return reads.participants_list(store, role)


def relationships(store: Engine, phase: str | None = None) -> list[dict[str, Any]]:
    """Every relationship (or those in ``phase``) with its mentee's and mentor's names, by id."""
    from engine.store import reads

    return reads.relationships_list(store, phase)


def check_phase(policy: Policy | Outline, phase: str | None) -> None:
    """Refuse a phase the policy does not have, naming those it has."""
    if phase is not None and phase not in policy.phases:
        from engine.errors import InputError
        from engine.errors import field as named

        raise InputError(
            f"{named('phase')}: {phase!r} is not a phase of policy {policy.policy!r} "
            f"(phases: {', '.join(policy.phases)})"
        )


def relationships_at(url: str, phase: str | None = None) -> list[dict[str, Any]]:
    """:func:`relationships` of the store at ``url``; the fast read path where the URL allows it."""
    from engine.store import lite

    if lite.supported(url):
        return lite.relationships_list(url, phase)
    from engine.services.setup import open_store

    return relationships(open_store(url), phase)


def history(url: str, rel_id: int) -> list[dict[str, Any]]:
    """A relationship's audit entries, oldest first; the fast read path where the URL allows it."""
    from engine.store import lite

    if lite.supported(url):
        return lite.history(url, rel_id)
    from engine.services.setup import open_store
    from engine.store import reads

    return reads.history(open_store(url), rel_id)


def journey(url: str, rel_id: int) -> list[tuple[int, str]]:
    """The mentee's journey: (id, phase) of each of their relationships, oldest first."""
    from engine.store import lite

    if lite.supported(url):
        return lite.journey(url, rel_id)
    from engine.services.setup import open_store
    from engine.store import reads

    return reads.journey(open_store(url), rel_id)


def phases_reached(store: Engine) -> dict[str, int]:
    """Per phase, how many relationships ever moved into it (recording a meeting or a survey answer in
    a phase is not moving there)."""
    from engine.policy.vocabulary import RECORD_TRIGGERS
    from engine.store import reads

    return reads.phases_reached(store, RECORD_TRIGGERS)


def first_completed(store: Engine) -> int | None:
    """The first relationship that went from review to closed by its completed survey, or ``None``."""
    from engine.store import reads

    return reads.first_closed_after_review(store)
