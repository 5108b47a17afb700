"""What changes between two versions of a policy, as plain lines an operator reads before switching.

Pure: it compares the two policies' effective content (:meth:`Policy.normalised`, every
default filled in), so a default written out or left implicit is no change, and two
versions with the same digest have no differences at all. Phases are matched by name,
transitions by trigger and source phases (one transition of a trigger on each side
that moved to other phases is a change of its ``from``), the rest field by field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.policy.model import Policy

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

SECTIONS = ("program", "matching", "retention", "links", "on_leave", "on_left")
"""The sections compared field by field after phases, transitions and surveys."""


@dataclass(frozen=True)
class Difference:
    """One change: ``area`` (``phase``, ``transition``, ``program``, ``surveys``, ...), its ``subject``
    (a phase's name, a transition's label, a survey; empty for a section), the ``field`` changed
    (dotted; empty when the subject was added or removed) and the values before and after, as shown."""

    area: str
    subject: str
    change: str
    field: str = ""
    before: str | None = None
    after: str | None = None

    @property
    def line(self) -> str:
        """``phase active: cadence.check_in: every 2 weeks → every week``, ``phase paused removed``."""
        where = " ".join(part for part in (self.area, self.subject) if part)
        if self.change != CHANGED:
            shown = self.after if self.change == ADDED else self.before
            return f"{where} {self.change}" + (f" ({shown})" if shown and not self.subject else "")
        named = f"{where}: {self.field}" if self.subject else f"{where}.{self.field}"
        return f"{named}: {self.before} → {self.after}"


def differences(current: Policy, new: Policy) -> list[Difference]:
    """What ``new`` changes of ``current``, in the order of the policy file; empty for the same content."""
    if current.digest == new.digest:
        return []
    old, fresh = current.normalised(), new.normalised()
    found = [
        Difference("policy", "", CHANGED, name, shown(old.get(name)), shown(fresh.get(name)))
        for name in ("version", "description")
        if old.get(name) != fresh.get(name)
    ]
    found += _phases(old["phases"], fresh["phases"])
    found += _transitions(old["transitions"], fresh["transitions"])
    found += _surveys(old.get("surveys") or {}, fresh.get("surveys") or {})
    for section in SECTIONS:
        found += _section(section, old.get(section), fresh.get(section))
    return found


def _phases(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Difference]:
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            yield Difference("phase", name, REMOVED)
        elif name not in old:
            yield Difference("phase", name, ADDED)
        else:
            for path, before, after in changed_fields(old[name], new[name]):
                yield Difference("phase", name, CHANGED, path, before, after)


Key = tuple[str, str]


def _transitions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> Iterator[Difference]:
    before, after = _keyed(old), _keyed(new)
    pairs = {key: (before[key], after[key]) for key in before if key in after}
    gone = [key for key in before if key not in after]
    fresh = [key for key in after if key not in before]
    for trigger in dict.fromkeys(key[0] for key in gone):
        mine = [key for key in gone if key[0] == trigger]
        theirs = [key for key in fresh if key[0] == trigger]
        if len(mine) == 1 and len(theirs) == 1:  # the trigger's one transition moved: a change of phases
            pairs[mine[0]] = (before[mine[0]], after[theirs[0]])
            gone.remove(mine[0])
            fresh.remove(theirs[0])
    for key in before:
        if key in pairs:
            for path, was, now in changed_fields(*pairs[key]):
                yield Difference("transition", _label(before[key]), CHANGED, path, was, now)
        elif key in gone:
            yield Difference("transition", _label(before[key]), REMOVED)
    for key in fresh:
        yield Difference("transition", _label(after[key]), ADDED)


def _keyed(transitions: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The transitions by trigger and source phases (a second with the same both: by its position)."""
    keyed: dict[Key, dict[str, Any]] = {}
    for transition in transitions:
        key = (transition["trigger"], shown(transition["from"]))
        while key in keyed:
            key = (key[0], key[1] + "'")
        keyed[key] = transition
    return keyed


def _label(transition: Mapping[str, Any]) -> str:
    """``review (active → review)``."""
    return f"{transition['trigger']} ({shown(transition['from'])} → {transition['to']})"


def _surveys(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Difference]:
    """A survey added, removed, or changed (which of its fields: a questionnaire is too long to show)."""
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            yield Difference("survey", name, REMOVED)
        elif name not in old:
            yield Difference("survey", name, ADDED)
        else:
            for path, _, _ in changed_fields(old[name], new[name]):
                yield Difference("survey", name, CHANGED, path, "as before", "changed")


def _section(name: str, old: Any, new: Any) -> Iterator[Difference]:
    if old == new:
        return
    if old is None or new is None:
        yield Difference(name, "", ADDED if old is None else REMOVED, "", shown(old), shown(new))
        return
    for path, before, after in changed_fields(old, new):
        yield Difference(name, "", CHANGED, path, before, after)


def changed_fields(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(dotted field, before, after) for each field that differs, into mappings on both sides."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from changed_fields(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
    elif old != new:
        yield path, shown(old), shown(new)


def shown(value: Any) -> str:
    """A policy value as an operator reads it: ``none``, ``yes``, ``after: 2 weeks, action: remind``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}: {shown(v)}" for k, v in value.items() if v is not None)
        return inner if len(value) != 1 else "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    return str(value)
