"""Phase policies: the pydantic models of a policy file and how one is loaded.

A policy is data an operations team writes in YAML. Loading it validates the shape
(``extra="forbid"`` everywhere), the vocabulary of conditions and actions, and the phase
graph, and reports every problem as ``file:line: field.path: what is wrong (what was
expected)`` (the wording in :mod:`engine.policy.problems`, the graph checks in :mod:`engine.policy.graph`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from engine.errors import PolicyError, listed
from engine.policy.durations import Duration
from engine.policy.fields import NAME_PATTERN, CadenceText, DurationText, PolicyModel
from engine.policy.graph import graph_problems, policy_warnings
from engine.policy.leavers import LeaveRule, LeftRule, leaver_problems
from engine.policy.links import DEFAULT_LINK_LIFETIME, LinkRules
from engine.policy.matching import MatchingPolicy, matching_problems
from engine.policy.problems import call_parameter_error, describe_errors, dotted, shown, unknown_name
from engine.policy.program import Program
from engine.policy.resources import ResourceEntry
from engine.policy.retention import Retention
from engine.policy.sessions import Sessions, session_problems
from engine.policy.survey_plans import SurveyPlan, plans_by_phase
from engine.policy.surveys import (
    STANDARD_FILE,
    SURVEY_NAME,
    Survey,
    SurveyEntry,
    effective_surveys,
    survey_problems,
)
from engine.policy.timers import LATEST_ENTRY, AfterText, timer_of
from engine.policy.vocabulary import ACTIONS, CONDITIONS, DEADLINE_ACTIONS, Term

if TYPE_CHECKING:
    from engine.policy.yamlsafe import LoadedYaml


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


def _call_parser(registry: Mapping[str, Term], kind: str, example: str) -> Any:
    def parse(value: object) -> Call:
        if isinstance(value, Call):
            return value
        if isinstance(value, str):
            name, raw = value, None
        elif isinstance(value, Mapping) and len(value) == 1:
            ((name, raw),) = value.items()
        else:
            raise ValueError(
                f"{shown(value)} is not {kind} (expected {kind} name, or one name "
                f"with its parameter like {example})"
            )
        term = registry.get(str(name))
        if term is None:
            raise ValueError(unknown_name(kind.split()[-1], name, sorted(registry)))
        try:
            return Call(term, term.parse_param(raw))
        except ValidationError as exc:
            assert term.param is not None
            raise call_parameter_error(term.name, term.param, exc) from None

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
    PlainValidator(_call_parser(CONDITIONS, "a condition", "{meetings_held: {at_least: 6}}")),
    PlainSerializer(Call.to_yaml),
    WithJsonSchema(_call_schema(CONDITIONS)),
]
ActionCall = Annotated[
    Call,
    PlainValidator(_call_parser(ACTIONS, "an action", "{send_survey: final}")),
    PlainSerializer(Call.to_yaml),
    WithJsonSchema(_call_schema(ACTIONS)),
]


class Deadline(PolicyModel):
    """What happens when a pair stays too long in a phase."""

    after: DurationText
    action: Literal["remind", "escalate"] | None = None
    fire: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _something_happens(self) -> Deadline:
        if self.action is None and self.fire is None:
            actions = ", ".join(f"`action: {name}`" for name in DEADLINE_ACTIONS)
            raise ValueError(f"nothing happens at this deadline (expected {actions} or `fire: TRIGGER`)")
        return self


class Cadence(PolicyModel):
    """The meeting rhythm of a phase, and when silence is nudged or escalated."""

    check_in: CadenceText
    remind_after: DurationText
    escalate_after: DurationText | None = None

    @field_validator("escalate_after")
    @classmethod
    def _escalate_later(cls, value: Duration | None, info: ValidationInfo) -> Duration | None:
        remind = info.data.get("remind_after")
        if value is not None and remind is not None and value.approx() <= remind.approx():
            raise ValueError(
                f"{value} is not longer than remind_after ({remind}) "
                f"(expected more than {remind}: the pair is nudged before the coordinator hears of it)"
            )
        return value


class Phase(PolicyModel):
    """One phase of the lifecycle and what the engine does in it."""

    description: str | None = None
    initial: bool = False
    terminal: bool = False
    on_enter: list[ActionCall] = Field(default_factory=list)
    deadline: Deadline | None = None
    cadence: Cadence | None = None
    resources: list[ResourceEntry] = Field(default_factory=list)  # engine.policy.resources


class Transition(PolicyModel):
    """A trigger that moves a pair from one or more phases to another."""

    trigger: str = Field(pattern=NAME_PATTERN)
    source: str | list[str] = Field(alias="from")
    to: str
    requires: list[ConditionCall] = Field(default_factory=list)
    after: AfterText | None = None
    auto: bool = False
    description: str | None = None

    @field_validator("source")
    @classmethod
    def _one_source_is_plain(cls, value: str | list[str]) -> str | list[str]:
        """``from: [review]`` is ``from: review``: the same policy, the same digest."""
        if isinstance(value, list) and not value:
            raise ValueError('no phases are listed (expected a phase, a list of phases, or "*")')
        return value[0] if isinstance(value, list) and len(value) == 1 else value

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
    since: str = LATEST_ENTRY  # the clock ``after`` is counted on (engine.policy.timers)


class Policy(PolicyModel):
    """A validated phase policy."""

    policy: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: int | str = 1
    description: str | None = None
    program: Program
    phases: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Phase]
    transitions: list[Transition]
    matching: MatchingPolicy = Field(default_factory=MatchingPolicy)
    surveys: dict[Annotated[str, Field(pattern=SURVEY_NAME)], SurveyEntry] = Field(default_factory=dict)
    on_leave: LeaveRule | None = None  # engine.policy.leavers: absent keeps the digest
    on_left: LeftRule | None = None
    links: LinkRules | None = None  # engine.policy.links: absent keeps the digest
    retention: Retention | None = None  # engine.policy.retention: absent keeps the digest
    sessions: Sessions | None = None  # engine.policy.sessions: absent keeps the digest
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @property
    def warnings(self) -> tuple[str, ...]:
        """``file:line: warning: ...``: what loads but cannot mean what it says (``policy_warnings``)."""
        return self._warnings

    @field_validator("phases")
    @classmethod
    def _phase_names(cls, phases: dict[str, Phase]) -> dict[str, Phase]:
        if not phases:
            raise ValueError("no phases are defined (expected at least one)")
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
        """The effective policy as plain data, every default filled in.

        The surveys the policy defines appear in full (a standard survey it
        overrides with the override applied); a policy without ``surveys:``
        has none here, so its version does not depend on the standard surveys.
        """
        unset = {
            n for n in ("on_leave", "on_left", "links", "retention", "sessions") if getattr(self, n) is None
        }
        data = self.model_dump(mode="json", by_alias=True, exclude={"surveys", *unset})
        if self.links is not None and not self.links.confirm_training:
            del data["links"]["confirm_training"]  # the default: the digest of a block without it
        if self.surveys:
            defined = self.survey_definitions
            data["surveys"] = {name: defined[name].model_dump(mode="json") for name in self.surveys}
        return data

    @property
    def link_lifetime(self) -> Duration:
        """How long a personal link opens after its message was written (``links.expire_after``)."""
        return self.links.expire_after if self.links is not None else DEFAULT_LINK_LIFETIME

    @property
    def confirm_training(self) -> bool:
        """Whether a mentor's training reported through their link waits for a coordinator (``links:``)."""
        return self.links is not None and self.links.confirm_training

    @cached_property
    def terminal_phases(self) -> frozenset[str]:
        """The phases a relationship never leaves."""
        return frozenset(name for name, phase in self.phases.items() if phase.terminal)

    @cached_property
    def survey_definitions(self) -> dict[str, Survey]:
        """Every survey this policy can send, by name: the standard ones with its own laid over them."""
        return effective_surveys(self.surveys)

    @cached_property
    def survey_plans(self) -> dict[str, tuple[SurveyPlan, ...]]:
        """Per phase, the surveys sent in each stay in it: on entering, or timed."""
        return plans_by_phase(self)


def _expand(policy: Policy) -> Iterator[Edge]:
    open_phases = [name for name, phase in policy.phases.items() if not phase.terminal]
    for index, t in enumerate(policy.transitions):
        sources = open_phases if t.sources == ["*"] else t.sources
        after, since = timer_of(t.after, policy.program.duration)
        for source in sources:
            if source != t.to or t.sources != ["*"]:
                yield Edge(index, t.trigger, source, t.to, tuple(t.requires), after, t.auto, since)


def load_policy_text(text: str, source: str) -> Policy:
    """Load and validate a policy from YAML text; ``source`` names it in errors."""
    from engine.policy.yamlsafe import load_yaml

    return _validate(load_yaml(text, source))


def load_policy(path: Path | str) -> Policy:
    """Load and validate a policy file."""
    from engine.policy.yamlsafe import load_yaml_file

    return _validate(load_yaml_file(Path(path)))


def _validate(loaded: LoadedYaml) -> Policy:
    try:
        policy = Policy.model_validate(loaded.data)
    except ValidationError as exc:
        problems = describe_errors(loaded, exc.errors(), Policy)
        raise PolicyError(
            f"{loaded.source}: the policy is not valid ({_count(problems)})",
            listed(problems, more="more problems"),
        ) from None
    for check, what in (
        (graph_problems, "the phase graph is not valid"),
        (survey_problems, "its surveys are not valid"),
        (matching_problems, "its matching section is not valid"),
        (leaver_problems, "its on_leave/on_left are not valid"),
        (session_problems, "its sessions are not valid"),
    ):
        found = check(policy)
        if found:
            found.sort(key=lambda item: loaded.line_for(item[0]))
            problems = [f"{loaded.source}:{loaded.line_for(loc)}: {dotted(loc)}: {msg}" for loc, msg in found]
            raise PolicyError(
                f"{loaded.source}: {what} ({_count(problems)})", listed(problems, more="more problems")
            )
    warned = sorted(policy_warnings(policy), key=lambda item: loaded.line_for(item[0]))
    where = loaded.source
    policy._warnings = tuple(
        f"{where}:{loaded.line_for(loc)}: warning: {dotted(loc)}: {m}" for loc, m in warned
    )
    return policy


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"


def shipped_policies() -> dict[str, Path]:
    """The policies shipped with mentorflow, by file stem (``default``, ...)."""
    root = resources.files("policies")
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in root.iterdir()
        if entry.name.endswith(".yaml") and entry.name != STANDARD_FILE
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
