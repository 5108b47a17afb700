"""Errors an operator can act on.

Every error the engine raises on purpose derives from :class:`MentorflowError`
and carries the exit code the CLI returns for it, so the boundary can print a
clear message instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_FIELD = re.compile(r"`([a-z][a-z_]*)`")


MAX_PROBLEMS = 50
"""Problems listed in one error at most; the rest are counted."""


def listed(problems: list[str], *, more: str = "more") -> list[str]:
    """The first :data:`MAX_PROBLEMS` of ``problems``, then a line counting the rest (``... and 3 more``)."""
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} {more}")
    return shown


def field(name: str) -> str:
    """How an engine message names an input field (``mentor``, ``reason``, ``as_of``).

    The engine speaks of fields, never of command-line flags or form inputs:
    each boundary shows the name in its own terms with :func:`in_terms_of`.
    """
    return f"`{name}`"


def in_terms_of(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each field reference that ``names`` knows replaced by its name there."""
    return _FIELD.sub(lambda m: names.get(m.group(1), m.group(0)), text)


class MentorflowError(Exception):
    """Base of the errors the engine raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[str] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return "\n".join([self.message, *self.problems])


class InputError(MentorflowError):
    """Bad input from the operator: a file, a row, an argument. Exit 2."""


class PolicyError(InputError):
    """A policy file that does not load; each problem reads ``file:line: field: what``."""


class ParticipantsError(InputError):
    """A participants CSV that cannot be imported; each problem names row and column."""


class NotFoundError(InputError):
    """A relationship, participant or file that does not exist."""


class RefusedError(InputError):
    """A trigger that is not allowed now; the message says why."""


class ConfigError(InputError):
    """Settings that do not work: a database that cannot be opened, an uninitialised store."""


class ConflictError(MentorflowError):
    """Another writer changed the same relationship first; nothing was written. Exit 1."""

    exit_code = 1
