"""Phase policies: the pydantic models of a policy file and how one is loaded.

A policy is data an operations team writes in YAML. Loading it validates the
shape (``extra="forbid"`` everywhere), the vocabulary of conditions and
actions, and the phase graph, and reports every problem as
``file:line: field.path: what is wrong (what was expected)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from engine.durations import Duration, parse_cadence, parse_duration
from engine.errors import PolicyError
from engine.phasegraph import Loc, graph_problems
from engine.vocabulary import ACTIONS, CONDITIONS, DEADLINE_ACTIONS, Term
from engine.yamlsafe import LoadedYaml, load_yaml, load_yaml_file

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PROGRAM_DURATION = "program.duration"


def _duration(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a duration (write it as text, e.g. "14 days")')
    return parse_duration(value)


def _cadence(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a cadence (try "every 2 weeks")')
    return parse_cadence(value)


_DURATION_SCHEMA = {"type": "string", "examples": ["14 days", "2 weeks", "6 months", "36h"]}
DurationText = Annotated[
    Duration,
    PlainValidator(_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
CadenceText = Annotated[
    Duration,
    PlainValidator(_cadence),
    PlainSerializer(lambda d: f"every {d}", return_type=str),
    WithJsonSchema({"type": "string", "examples": ["every 2 weeks", "monthly"]}),
]


@dataclass(frozen=True)
class Call:
    """A condition or action named in a policy, with its validated parameter."""

    term: Term
    param: BaseModel | None = None

    @property
    def name(self) -> str:
        return self.term.name

    def to_yaml(self) -> object:
        """The call as an operator writes it: a name, or a one-key mapping."""
        if self.param is None:
            return self.name
        data = self.param.model_dump(mode="json")
        if self.term.scalar_field is not None and len(data) == 1:
            return {self.name: data[self.term.scalar_field]}
        return {self.name: data}


def _call_parser(registry: Mapping[str, Term], kind: str) -> Any:
    def parse(value: object) -> Call:
        if isinstance(value, Call):
            return value
        if isinstance(value, str):
            name, raw = value, None
        elif isinstance(value, Mapping) and len(value) == 1:
            ((name, raw),) = value.items()
        else:
            raise ValueError(f"expected a {kind} name or a one-key mapping like {{name: parameter}}")
        term = registry.get(str(name))
        if term is None:
            known = ", ".join(sorted(registry))
            raise ValueError(f"unknown {kind} {name!r} (expected one of: {known})")
        try:
            return Call(term, term.parse_param(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"{name}: {first['msg']}") from None

    return parse


def _call_schema(registry: Mapping[str, Term]) -> dict[str, Any]:
    names = sorted(registry)
    return {
        "anyOf": [
            {"type": "string", "enum": names},
            {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": {"enum": names}},
        ]
    }


ConditionCall = Annotated[
    Call,
    PlainValidator(_call_parser(CONDITIONS, "condition")),
    PlainSerializer(Call.to_yaml),
    WithJsonSchema(_call_schema(CONDITIONS)),
]
ActionCall = Annotated[
    Call,
    PlainValidator(_call_parser(ACTIONS, "action")),
    PlainSerializer(Call.to_yaml),
    WithJsonSchema(_call_schema(ACTIONS)),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Program(_Model):
    """The program as a whole: how long a pair stays active, and where it runs."""

    duration: DurationText
    timezone: str = "UTC"
    goals: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'{value!r} is not a time zone (try "Europe/Amsterdam")') from None
        return value


class Deadline(_Model):
    """What happens when a pair stays too long in a phase."""

    after: DurationText
    action: Literal["remind", "escalate"] | None = None
    fire: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _something_happens(self) -> Deadline:
        if self.action is None and self.fire is None:
            raise ValueError(
                f"a deadline needs an action ({' or '.join(DEADLINE_ACTIONS)}) or a trigger to fire"
            )
        return self


class Cadence(_Model):
    """The meeting rhythm of a phase, and when silence is nudged or escalated."""

    check_in: CadenceText
    remind_after: DurationText
    escalate_after: DurationText | None = None

    @model_validator(mode="after")
    def _escalate_later(self) -> Cadence:
        if self.escalate_after and self.escalate_after.approx() <= self.remind_after.approx():
            raise ValueError(
                f"escalate_after ({self.escalate_after}) must be longer than "
                f"remind_after ({self.remind_after})"
            )
        return self


class Phase(_Model):
    """One phase of the lifecycle and what the engine does in it."""

    description: str | None = None
    initial: bool = False
    terminal: bool = False
    on_enter: list[ActionCall] = Field(default_factory=list)
    deadline: Deadline | None = None
    cadence: Cadence | None = None
    resources: list[str] = Field(default_factory=list)


class Transition(_Model):
    """A trigger that moves a pair from one or more phases to another."""

    trigger: str = Field(pattern=NAME_PATTERN)
    source: str | list[str] = Field(alias="from")
    to: str
    requires: list[ConditionCall] = Field(default_factory=list)
    after: str | None = None
    auto: bool = False
    description: str | None = None

    @field_validator("after")
    @classmethod
    def _after_is_duration(cls, value: str | None) -> str | None:
        if value is None or value == PROGRAM_DURATION:
            return value
        return str(parse_duration(value))

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)


@dataclass(frozen=True)
class Edge:
    """A transition expanded to one source phase (``from: "*"`` becomes one edge per phase)."""

    index: int
    trigger: str
    source: str
    dest: str
    requires: tuple[Call, ...]
    after: Duration | None
    auto: bool


class Policy(_Model):
    """A validated phase policy."""

    policy: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: int | str = 1
    description: str | None = None
    program: Program
    phases: dict[str, Phase]
    transitions: list[Transition]

    @field_validator("phases")
    @classmethod
    def _phase_names(cls, phases: dict[str, Phase]) -> dict[str, Phase]:
        bad = [name for name in phases if not re.match(NAME_PATTERN, name)]
        if bad:
            raise ValueError(f"phase names must be lower-case words, not {', '.join(map(repr, bad))}")
        if not phases:
            raise ValueError("a policy needs at least one phase")
        return phases

    @property
    def initial_phase(self) -> str:
        return next(name for name, phase in self.phases.items() if phase.initial)

    @cached_property
    def edges(self) -> tuple[Edge, ...]:
        """Every transition expanded to its source phases, in file order."""
        return tuple(_expand(self))

    @cached_property
    def digest(self) -> str:
        """The policy's version: a hash of its normalised content (defaults filled, durations normalised)."""
        canonical = json.dumps(self.normalised(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def normalised(self) -> dict[str, Any]:
        """The effective policy as plain data, every default filled in."""
        return self.model_dump(mode="json", by_alias=True)


def _expand(policy: Policy) -> Iterator[Edge]:
    open_phases = [name for name, phase in policy.phases.items() if not phase.terminal]
    for index, t in enumerate(policy.transitions):
        sources = open_phases if t.sources == ["*"] else t.sources
        after = policy.program.duration if t.after == PROGRAM_DURATION else None
        if t.after not in (None, PROGRAM_DURATION):
            after = parse_duration(t.after)
        for source in sources:
            if source != t.to or t.sources != ["*"]:
                yield Edge(index, t.trigger, source, t.to, tuple(t.requires), after, t.auto)


def load_policy_text(text: str, source: str) -> Policy:
    """Load and validate a policy from YAML text; ``source`` names it in errors."""
    return _validate(load_yaml(text, source))


def load_policy(path: Path | str) -> Policy:
    """Load and validate a policy file."""
    return _validate(load_yaml_file(Path(path)))


def _validate(loaded: LoadedYaml) -> Policy:
    try:
        policy = Policy.model_validate(loaded.data)
    except ValidationError as exc:
        raise PolicyError(
            f"{loaded.source}: the policy is not valid",
            [_describe(loaded, err) for err in exc.errors()],
        ) from None
    problems = graph_problems(policy)
    if problems:
        lines = [f"{loaded.source}:{loaded.line_for(loc)}: {_dotted(loc)}: {msg}" for loc, msg in problems]
        raise PolicyError(f"{loaded.source}: the phase graph is not valid", lines)
    return policy


def _dotted(loc: Loc) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in loc).replace(".[", "[")


_MESSAGES = {
    "missing": "required field is missing",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of names to settings",
    "model_type": "expected a mapping of settings",
}


def _describe(loaded: LoadedYaml, err: Mapping[str, Any]) -> str:
    loc: Loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_expected_keys(loc)}"
    elif kind == "literal_error":
        message = f"{err['input']!r} is not allowed (expected {err['ctx']['expected']})"
    elif kind == "string_pattern_mismatch":
        message = f"{err['input']!r} is not a valid name (expected lower-case letters, digits, _)"
    elif kind in _MESSAGES:
        message = _MESSAGES[kind] + ("" if kind == "missing" else f", got {err['input']!r}")
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
    return f"{loaded.source}:{loaded.line_for(loc)}: {_dotted(loc)}: {message}"


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and (part in ("str", "int", "list[str]") or "[" in part)


def _expected_keys(loc: Loc) -> str:
    model: type[BaseModel] | None = Policy
    skip_key = False
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if skip_key:
            skip_key = False
            continue
        info = model.model_fields.get(part)
        if info is None:
            return ""
        annotation = info.annotation
        if get_origin(annotation) is dict:
            skip_key = True
            annotation = get_args(annotation)[1]
        model = _model_of(annotation)
    if model is None:
        return ""
    keys = [info.alias or name for name, info in model.model_fields.items()]
    return f" (expected one of: {', '.join(keys)})"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def shipped_policies() -> dict[str, Path]:
    """The policies shipped with mentorflow, by file stem (``default``, ...)."""
    root = resources.files("policies")
    return {
        Path(entry.name).stem: Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".yaml")
    }


def resolve_policy_path(name_or_path: str | Path | None) -> Path:
    """A policy file by path, or by the name of a shipped policy; ``None`` is the default."""
    shipped = shipped_policies()
    if name_or_path is None:
        return shipped["default"]
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise PolicyError(
        f"no policy file {str(name_or_path)!r} (give a path, or one of: {', '.join(sorted(shipped))})"
    )
