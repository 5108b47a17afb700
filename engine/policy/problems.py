"""Pydantic's validation errors, translated into lines an operator can act on.

Each problem reads ``file:line: field.path: what is wrong (what was expected)``:
the line comes from the YAML reader, unknown keys list the keys that are
allowed, and nothing of pydantic's own wording ("Input should be", error
URLs, union branch names) reaches the operator.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

if TYPE_CHECKING:
    from engine.policy.yamlsafe import LoadedYaml

Loc = tuple[str | int, ...]

CALL_PARAMETER = "call_parameter"
YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})

_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping of names to settings",
    "model_type": "a mapping of settings",
    "model_attributes_type": "a mapping of settings",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "more than {}"),
    "less_than_equal": ("le", "{} or less"),
    "less_than": ("lt", "less than {}"),
}
_UNION_TAG = re.compile(r"^[a-z][a-z-]*(\[.*\])?$")


def shown(value: object) -> str:
    """A value as the operator wrote it: text in double quotes, lists and mappings in YAML flow style."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def dotted(loc: Sequence[str | int]) -> str:
    """``phases.active.cadence`` or ``transitions[3].requires[0]``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def unknown_name(kind: str, name: object, known: Iterable[str], where: str = "") -> str:
    """``unknown phase "x": did you mean "y"? (expected one of: ...)``."""
    names = list(known)
    guess = f": did you mean {shown(close)}?" if (close := closest(str(name), names)) else ""
    expected = f"expected one of: {', '.join(names)}" if names else "expected none here"
    return f"unknown {kind} {shown(name)}{where}{guess} ({expected})"


def closest(name: str, names: Iterable[str]) -> str | None:
    """The name in ``names`` that ``name`` is most likely a misspelling of, if any."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return close[0] if close else None


def call_parameter_error(name: str, model: type[BaseModel], exc: ValidationError) -> PydanticCustomError:
    """Carry the errors of a condition's or action's parameter up to :func:`describe_errors`."""
    return PydanticCustomError(
        CALL_PARAMETER,
        "the parameter of {name} is not valid",
        {"name": name, "model": model, "errors": exc.errors()},
    )


@dataclass(frozen=True)
class _Problem:
    loc: Loc  # where in the file
    model: type[BaseModel] | None  # the model ``model_loc`` is relative to, for listing keys
    model_loc: Loc
    error: ErrorDetails
    union: Loc | None  # the field whose alternatives (``int | str``) produced it

    @property
    def kind(self) -> str:
        return self.error["type"]


def describe_errors(loaded: LoadedYaml, errors: Iterable[ErrorDetails], root: type[BaseModel]) -> list[str]:
    """Every error as ``file:line: field.path: message``, in the order of the file."""
    problems: list[_Problem] = []
    for error in errors:
        problems.extend(_flatten(loaded, error, root))
    problems = _without_misspelt_missing(problems)
    lines = [(loaded.line_for(loc), f"{dotted(loc)}: {message}") for loc, message in _describe_all(problems)]
    unique = dict.fromkeys(f"{loaded.source}:{line}: {text}" for line, text in sorted(lines, key=_line))
    return list(unique)


def _line(item: tuple[int, str]) -> int:
    return item[0]


def _flatten(loaded: LoadedYaml, error: ErrorDetails, root: type[BaseModel]) -> Iterator[_Problem]:
    loc, union = _strip_union_tags(loaded, (), error["loc"])
    if error["type"] != CALL_PARAMETER:
        yield _Problem(loc, root, loc, error, union)
        return
    ctx = error.get("ctx", {})
    base = (*loc, str(ctx["name"]))
    for inner in ctx["errors"]:
        inner_loc, inner_union = _strip_union_tags(loaded, base, inner["loc"])
        yield _Problem((*base, *inner_loc), ctx["model"], inner_loc, inner, inner_union)


def _without_misspelt_missing(problems: list[_Problem]) -> list[_Problem]:
    """Drop "x is missing" when the same mapping has an unknown key that is a misspelling of x."""
    misspelt = {
        (p.loc[:-1], guess)
        for p in problems
        if p.kind == "extra_forbidden"
        and (guess := closest(str(p.loc[-1]), _allowed_keys(p.model, p.model_loc)))
    }
    return [p for p in problems if not (p.kind == "missing" and (p.loc[:-1], p.loc[-1]) in misspelt)]


def _strip_union_tags(loaded: LoadedYaml, base: Loc, raw: Sequence[str | int]) -> tuple[Loc, Loc | None]:
    """Drop pydantic's names of union alternatives (``int``, ``list[str]``) from an error's location."""
    kept: list[str | int] = []
    union: Loc | None = None
    for part in raw:
        if part == "[key]":  # the error is about a mapping's key, not its value
            continue
        path = (*base, *kept, part)
        if kept and isinstance(part, str) and path not in loaded.lines and _is_union_tag(part):
            union = union or tuple(kept)
            continue
        kept.append(part)
    return tuple(kept), union


def _is_union_tag(part: str) -> bool:
    return bool(_UNION_TAG.match(part)) and (part in ("int", "str", "bool", "float", "none") or "[" in part)


def _describe_all(problems: list[_Problem]) -> Iterator[tuple[Loc, str]]:
    """Messages for every problem; the alternatives of one union give one message between them."""
    unions: dict[Loc, list[_Problem]] = {}
    for problem in problems:
        if problem.union is None:
            yield problem.loc, _message(problem)
        else:
            unions.setdefault(problem.union, []).append(problem)
    for group in unions.values():
        deepest = max(len(p.loc) for p in group)
        kept = [p for p in group if len(p.loc) == deepest]
        expectations = [_EXPECTED[p.kind] for p in kept if p.kind in _EXPECTED]
        if len(kept) > 1 and len(expectations) == len(kept):
            value = kept[0].error["input"]
            yield kept[0].loc, f"{_what_it_is(value)} (expected {' or '.join(expectations)})"
        else:
            yield from ((p.loc, _message(p)) for p in kept)


def _message(problem: _Problem) -> str:
    error, kind = problem.error, problem.kind
    value = error.get("input")
    ctx = error.get("ctx", {})
    if kind == "missing":
        parent = f"in {dotted(problem.loc[:-1])}" if len(problem.loc) > 1 else "at the top level"
        return f"is missing (expected `{problem.loc[-1]}:` {parent})"
    if kind == "extra_forbidden":
        return unknown_name("key", problem.loc[-1], _allowed_keys(problem.model, problem.model_loc))
    if kind == "bool_type" and isinstance(value, str) and value.lower() in YAML11_BOOLEANS:
        return f"{shown(value)} is read as text, not as a yes/no switch (expected true or false)"
    if kind in _EXPECTED:
        return f"{_what_it_is(value)} (expected {_EXPECTED[kind]})"
    if kind == "literal_error":
        expected = re.sub(r"'([^']*)'", r'"\1"', str(ctx.get("expected", "")))
        return f"{shown(value)} is not allowed (expected {expected})"
    if kind == "string_pattern_mismatch":
        extra = " and -" if re.fullmatch(str(ctx.get("pattern", "")), "a-b") else ""
        return (
            f"{shown(value)} is not a valid name "
            f"(expected lower-case letters, digits, _{extra}, starting with a letter)"
        )
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        bound = ctx.get(key)
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"{shown(value)} is out of range (expected {words.format(bound)})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "expected").replace("Assertion failed, ", "")


def _what_it_is(value: object) -> str:
    if value is None:
        return "nothing is given"
    if isinstance(value, bool):
        return f"{shown(value)} is true/false"
    if isinstance(value, int | float):
        return f"{shown(value)} is a number"
    if isinstance(value, str):
        return f"{shown(value)} is text"
    if isinstance(value, list):
        return f"{shown(value)} is a list"
    return f"{shown(value)} is a mapping" if isinstance(value, Mapping) else f"{shown(value)} is not valid"


def _allowed_keys(model: type[BaseModel] | None, loc: Loc) -> list[str]:
    """The keys allowed where ``loc`` ends, following ``loc`` down from ``model``."""
    skip_key = False
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if skip_key:  # a name in a mapping of names to settings (a phase's name)
            skip_key = False
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        annotation: Any = field.annotation
        if get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation):
            annotation = next(a for a in get_args(annotation) if a is not type(None))  # `X | None`
        if get_origin(annotation) is dict:
            skip_key = True
            annotation = get_args(annotation)[1]
        model = _model_of(annotation)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model in ``annotation``: itself, or inside it (``list[Question] | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in get_args(annotation):
        found = _model_of(inner)
        if found is not None:
            return found
    return None
