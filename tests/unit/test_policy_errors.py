"""Every way a policy can be wrong, and the message an operator gets for it.

Each case edits the first version of the default policy (tests/design_policy.py) in one place and
checks the one problem reported: ``file:LINE: field.path: what is wrong (what
was expected)``, with the line counted in the text below, and none of pydantic's
own wording.

Lines of the default policy, for counting::

     1 policy            12 on_enter (matched)   23 on_enter (review)   30 transitions[1]
     2 version           13 deadline (matched)   24 deadline (review)   31 transitions[2]
     3 description       14 kickoff:             25 closed:             32 transitions[3]
     4 program:          15 on_enter (kickoff)   26 terminal            33 transitions[4]
     5 duration          16 deadline (kickoff)   27 on_enter (closed)   34 transitions[5]
     6 timezone          17 active:              28 transitions:        35 transitions[6]
     7 phases:           18 cadence:             29 transitions[0]      36 (appended)
     8 intake:           19 check_in
     9 initial           20 remind_after
    10 deadline (intake) 21 escalate_after
    11 matched:          22 review:
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.model import load_policy, load_policy_text
from engine.policy.vocabulary import ACTIONS, CONDITIONS
from tests.design_policy import DESIGN_BLOCK

SOURCE = "policies/team.yaml"
DEFAULT = DESIGN_BLOCK  # the edits below are made to the design's policy, whose lines stay put
NOT_FOR_OPERATORS = (
    "Input should",
    "Value error",
    "value_error",
    "Field required",
    "validation error",
    "errors.pydantic.dev",
    "For further information",
    "pydantic",
    "Traceback",
    "String should",
    "type=",
    "function-plain",
    "list[str]",
    "[key]",
)
WHAT_WAS_EXPECTED = re.compile(r"\((expected|try|write|did you mean)|: did you mean")


def _edited(*edits: tuple[str, str]) -> str:
    text = DEFAULT
    for old, new in edits:
        assert text.count(old) == 1, f"the default policy must contain {old!r} once"
        text = text.replace(old, new)
    return text


def _appended(line: str) -> str:
    return DEFAULT + line + "\n"


def _the_problem(text: str) -> str:
    """The single problem the policy is refused for."""
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, SOURCE)
    error = caught.value
    assert error.message.startswith(f"{SOURCE}: "), error.message
    assert len(error.problems) == 1, "\n".join(error.problems)
    whole = str(error)
    assert not [word for word in NOT_FOR_OPERATORS if word in whole], whole
    return error.problems[0]


def _check(text: str, line: int, path: str, fragment: str) -> str:
    problem = _the_problem(text)
    assert problem.startswith(f"{SOURCE}:{line}: {path}: "), problem
    assert fragment in problem, problem
    assert WHAT_WAS_EXPECTED.search(problem), f"say what was expected: {problem}"
    return problem


CASES: list[tuple[str, str, int, str, str]] = [
    # --- unknown keys, at every depth, listing the keys allowed there
    (
        "unknown key at the top",
        _edited(("description: Six", "descripton: Six")),
        3,
        "descripton",
        'unknown key "descripton": did you mean "description"? (expected one of: policy, version, '
        "description, program, phases, transitions",
    ),
    (
        "unknown key in program",
        _edited(("  timezone: Europe/Amsterdam\n", "  timezone: Europe/Amsterdam\n  length: 3 months\n")),
        7,
        "program.length",
        'unknown key "length" (expected one of: duration, timezone, goals)',
    ),
    (
        "unknown key in a phase",
        _edited(("    initial: true", "    initail: true")),
        9,
        "phases.intake.initail",
        'unknown key "initail": did you mean "initial"? (expected one of: description, initial, terminal, '
        "on_enter, deadline, cadence, resources)",
    ),
    (
        "unknown key in a deadline",
        _edited(("{after: 10 days, action: remind}", "{after: 10 days, action: remind, when: late}")),
        16,
        "phases.kickoff.deadline.when",
        'unknown key "when" (expected one of: after, action, fire)',
    ),
    (
        "unknown key in a cadence, and no 'missing' noise for the key it misspells",
        _edited(("remind_after: 3 weeks", "remindafter: 3 weeks")),
        20,
        "phases.active.cadence.remindafter",
        'unknown key "remindafter": did you mean "remind_after"? '
        "(expected one of: check_in, remind_after, escalate_after)",
    ),
    (
        "unknown key in a transition",
        _edited(("requires: [mentor_assigned]}", "require: [mentor_assigned]}")),
        29,
        "transitions[0].require",
        'unknown key "require": did you mean "requires"? '
        "(expected one of: trigger, from, to, requires, after, auto, description)",
    ),
    (
        "unknown key in a condition's parameter",
        _edited(("[survey_complete], auto", "[{meetings_held: {atleast: 6}}], auto")),
        34,
        "transitions[5].requires[0].meetings_held.atleast",
        'unknown key "atleast": did you mean "at_least"? (expected one of: at_least)',
    ),
    # --- wrong types
    (
        "a list where a number or text is expected",
        _edited(("version: 1", "version: [1]")),
        2,
        "version",
        "[1] is a list (expected a whole number or text)",
    ),
    (
        "text where a list is expected",
        _edited(("on_enter: [notify_pair, enrol_mentor_training]", "on_enter: notify_pair")),
        12,
        "phases.matched.on_enter",
        '"notify_pair" is text (expected a list)',
    ),
    (
        "text where a mapping is expected",
        _edited(("deadline: {after: 21 days, action: escalate}", "deadline: 21 days")),
        10,
        "phases.intake.deadline",
        '"21 days" is text (expected a mapping of settings)',
    ),
    (
        "a number where text is expected",
        _edited(("timezone: Europe/Amsterdam", "timezone: 1")),
        6,
        "program.timezone",
        "1 is a number (expected text)",
    ),
    (
        "an empty phase",
        _edited(
            (
                "  matched:\n    on_enter: [notify_pair, enrol_mentor_training]\n"
                "    deadline: {after: 14 days, action: escalate}\n",
                "  matched:\n",
            )
        ),
        11,
        "phases.matched",
        "nothing is given (expected a mapping of settings)",
    ),
    (
        "a missing required key",
        _edited(("  duration: 6 months          # time in `active` before review\n", "")),
        4,
        "program.duration",
        "is missing (expected `duration:` in program)",
    ),
    (
        "a missing key of a transition",
        _appended("  - {trigger: reopen, from: review}"),
        36,
        "transitions[7].to",
        "is missing (expected `to:` in transitions[7])",
    ),
    # --- the YAML 1.1 trap: yes/no/on/off are text in a policy, never booleans
    (
        "initial: yes",
        _edited(("    initial: true", "    initial: yes")),
        9,
        "phases.intake.initial",
        '"yes" is read as text, not as a yes/no switch (expected true or false)',
    ),
    (
        "terminal: on",
        _edited(("    terminal: true", "    terminal: on")),
        26,
        "phases.closed.terminal",
        "(expected true or false)",
    ),
    (
        "auto: no",
        _edited(("requires: [mentor_trained], auto: true}", "requires: [mentor_trained], auto: no}")),
        30,
        "transitions[1].auto",
        '"no" is read as text',
    ),
    (
        'auto: "true" (quoted)',
        _edited(("requires: [kickoff_held], auto: true}", 'requires: [kickoff_held], auto: "true"}')),
        31,
        "transitions[2].auto",
        '"true" is text (expected true or false)',
    ),
    (
        "a number where true or false is expected",
        _edited(("    initial: true", "    initial: 1")),
        9,
        "phases.intake.initial",
        "1 is a number (expected true or false)",
    ),
    # --- the vocabulary
    (
        "unknown condition",
        _edited(("[mentor_assigned]", "[mentor_asigned]")),
        29,
        "transitions[0].requires[0]",
        'unknown condition "mentor_asigned": did you mean "mentor_assigned"? (expected one of: '
        + ", ".join(sorted(CONDITIONS))
        + ")",
    ),
    (
        "unknown action",
        _edited(("on_enter: [schedule_kickoff_meeting, send_mentee_guide]", "on_enter: [book_a_room]")),
        15,
        "phases.kickoff.on_enter[0]",
        'unknown action "book_a_room" (expected one of: ' + ", ".join(sorted(ACTIONS)) + ")",
    ),
    (
        "a parameter out of range",
        _edited(("[survey_complete], auto", "[{meetings_held: {at_least: -1}}], auto")),
        34,
        "transitions[5].requires[0].meetings_held.at_least",
        "-1 is out of range (expected 0 or more)",
    ),
    (
        "a parameter that is not a number",
        _edited(("[survey_complete], auto", "[{meetings_held: {at_least: six}}], auto")),
        34,
        "transitions[5].requires[0].meetings_held.at_least",
        '"six" is text (expected a whole number)',
    ),
    (
        "a parameter written as text that looks like a number",
        _edited(("[survey_complete], auto", "[{meetings_held: {at_least: '6'}}], auto")),
        34,
        "transitions[5].requires[0].meetings_held.at_least",
        '"6" is text (expected a whole number)',
    ),
    (
        "a parameter on a condition that takes none",
        _edited(("[mentor_assigned]", "[{mentor_assigned: 1}]")),
        29,
        "transitions[0].requires[0]",
        "mentor_assigned takes no parameter (expected the plain name: mentor_assigned)",
    ),
    (
        "a condition without its parameter",
        _edited(("[survey_complete], auto", "[meetings_held], auto")),
        34,
        "transitions[5].requires[0]",
        "meetings_held needs a parameter (expected {meetings_held: {at_least: N}})",
    ),
    (
        "a survey name that is not a name",
        _edited(("{send_survey: final}", "{send_survey: Final Survey}")),
        23,
        "phases.review.on_enter[0].send_survey.survey",
        '"Final Survey" is not a valid name (expected lower-case letters, digits, _ and -',
    ),
    (
        "two actions in one mapping",
        _edited(("[{send_survey: final}]", "[{send_survey: final, notify_pair: null}]")),
        23,
        "phases.review.on_enter[0]",
        "is not an action (expected an action name, or one name with its parameter like "
        "{send_survey: final})",
    ),
    (
        "a deadline action that does not exist",
        _edited(("{after: 14 days, action: escalate}", "{after: 14 days, action: shout}")),
        13,
        "phases.matched.deadline.action",
        '"shout" is not allowed (expected "remind" or "escalate")',
    ),
    (
        "a deadline at which nothing happens",
        _edited(("{after: 21 days, action: escalate}", "{after: 21 days}")),
        10,
        "phases.intake.deadline",
        "nothing happens at this deadline (expected `action: remind`, `action: escalate` or `fire: TRIGGER`)",
    ),
    # --- durations and cadences
    (
        "a misspelt unit",
        _edited(("{after: 21 days,", "{after: 21 dayz,")),
        10,
        "phases.intake.deadline.after",
        '"21 dayz" is not a duration (try "2w" or "14 days")',
    ),
    (
        "a number without a unit",
        _edited(("duration: 6 months", "duration: 6")),
        5,
        "program.duration",
        '6 is not a duration: say which unit (try "6 days" or "6 weeks")',
    ),
    (
        "minutes or months",
        _edited(("remind_after: 3 weeks", "remind_after: 3m")),
        20,
        "phases.active.cadence.remind_after",
        '"m" could be minutes or months (write "3min" or "3mo")',
    ),
    (
        "a negative duration",
        _edited(("{after: 10 days,", "{after: -10 days,")),
        16,
        "phases.kickoff.deadline.after",
        '"-10 days" is not a duration: it must be longer than zero',
    ),
    (
        "an after that is neither a duration nor program.duration",
        _edited(("after: program.duration", "after: program.durations")),
        32,
        "transitions[3].after",
        '"program.durations" is not a duration (try "2w" or "14 days", or program.duration)',
    ),
    (
        "a cadence that is not one (a fortnite)",
        _edited(("check_in: every 2 weeks", "check_in: every fortnite")),
        19,
        "phases.active.cadence.check_in",
        '"every fortnite" is not a duration (try "2w" or "14 days")',
    ),
    (
        "an ambiguous cadence",
        _edited(("check_in: every 2 weeks", "check_in: biweekly")),
        19,
        "phases.active.cadence.check_in",
        'it is ambiguous (write "every 2 weeks" or "every 3 days")',
    ),
    (
        "escalate_after before remind_after",
        _edited(("escalate_after: 6 weeks", "escalate_after: 2 weeks")),
        21,
        "phases.active.cadence.escalate_after",
        "2 weeks is not longer than remind_after (3 weeks) (expected more than 3 weeks",
    ),
    (
        "escalate_after equal to remind_after, written another way",
        _edited(("escalate_after: 6 weeks", "escalate_after: 21 days")),
        21,
        "phases.active.cadence.escalate_after",
        "3 weeks is not longer than remind_after (3 weeks)",
    ),
    (
        "an unknown time zone",
        _edited(("timezone: Europe/Amsterdam", "timezone: Europe/Amsterdm")),
        6,
        "program.timezone",
        '"Europe/Amsterdm" is not a time zone (did you mean "Europe/Amsterdam"?)',
    ),
    (
        "a time zone that is not one at all",
        _edited(("timezone: Europe/Amsterdam", "timezone: CEST+2")),
        6,
        "program.timezone",
        '"CEST+2" is not a time zone',
    ),
    # --- names
    (
        "a phase name with capitals",
        _edited(("  matched:", "  Matched:")),
        11,
        "phases.Matched",
        '"Matched" is not a valid name (expected lower-case letters, digits, _, starting with a letter)',
    ),
    (
        "a trigger with a space",
        _edited(("{trigger: match,", "{trigger: match now,")),
        29,
        "transitions[0].trigger",
        '"match now" is not a valid name',
    ),
    # --- the phase graph
    (
        "two initial phases",
        _edited(("  matched:\n", "  matched:\n    initial: true\n")),
        12,
        "phases.matched.initial",
        "more than one initial phase: intake, matched (expected exactly one)",
    ),
    (
        "no initial phase",
        _edited(("    initial: true\n", "")),
        7,
        "phases",
        "no phase is marked `initial: true` (expected exactly one)",
    ),
    (
        "no terminal phase",
        _edited(("    terminal: true\n", "")),
        7,
        "phases",
        "no phase is marked `terminal: true` (expected at least one, e.g. closed)",
    ),
    (
        "an unreachable phase",
        _edited(("  closed:\n", "  limbo:\n    description: nobody gets here\n  closed:\n")),
        25,
        "phases.limbo",
        'no transition leads to "limbo" from the initial phase "intake" '
        "(expected every phase to be reachable)",
    ),
    (
        "a phase with no way out",
        _edited(
            ("  closed:\n", "  limbo:\n    description: nobody leaves\n  closed:\n"),
            ('from: "*"', "from: [intake, matched, kickoff, active, review]"),
            ("{trigger: renew, from: review, to: active,", "{trigger: renew, from: review, to: limbo,"),
        ),
        25,
        "phases.limbo",
        'no transition leaves "limbo" (expected a transition out of it, or `terminal: true`)',
    ),
    (
        "a transition to an unknown phase",
        _edited(("to: matched,", "to: matchd,")),
        29,
        "transitions[0].to",
        'unknown phase "matchd": did you mean "matched"? '
        "(expected one of: intake, matched, kickoff, active, review, closed)",
    ),
    (
        "a transition from an unknown phase",
        _edited(("from: intake,", "from: [intake, intak],")),
        29,
        "transitions[0].from",
        'unknown phase "intak": did you mean "intake"?',
    ),
    (
        "a transition out of a terminal phase",
        _appended("  - {trigger: reopen, from: closed, to: active}"),
        36,
        "transitions[7].from",
        '"closed" is a terminal phase (expected a phase that is not terminal',
    ),
    (
        "a transition back to the initial phase",
        _appended("  - {trigger: restart, from: review, to: intake}"),
        36,
        "transitions[7].to",
        '"intake" is the initial phase (expected a later phase',
    ),
    (
        "a duplicate transition",
        _appended("  - {trigger: renew, from: review, to: active, requires: [survey_complete]}"),
        36,
        "transitions[7]",
        "repeats transitions[4] (renew: review -> active, same requires) (expected each transition once)",
    ),
    (
        "a duplicate of what * already gives",
        _appended("  - {trigger: close, from: active, to: closed, requires: [reason]}"),
        36,
        "transitions[7]",
        "repeats transitions[6] (close: active -> closed, same requires)",
    ),
    (
        '"*" inside a list',
        _edited(('from: "*"', 'from: [intake, "*"]')),
        35,
        "transitions[6].from",
        '"*" stands for every phase (expected from: "*" on its own, not in a list)',
    ),
    (
        "an empty from",
        _edited(('from: "*"', "from: []")),
        35,
        "transitions[6].from",
        "no phases are listed (expected a phase, a list of phases, or",
    ),
    (
        "a deadline that fires an unknown trigger",
        _edited(("{after: 10 days, action: remind}", "{after: 10 days, fire: begin}")),
        16,
        "phases.kickoff.deadline.fire",
        'unknown trigger "begin" from "kickoff" (expected one of: close, start)',
    ),
    (
        "a deadline that fires a trigger of another phase",
        _edited(("{after: 10 days, action: remind}", "{after: 10 days, fire: renew}")),
        16,
        "phases.kickoff.deadline.fire",
        'unknown trigger "renew" from "kickoff"',
    ),
    (
        "a deadline on a terminal phase",
        _edited(
            ("    terminal: true\n", "    terminal: true\n    deadline: {after: 1 day, action: remind}\n")
        ),
        25,
        "phases.closed",
        "a terminal phase has a deadline or cadence (expected neither",
    ),
    (
        "a phase both initial and terminal",
        _edited(
            ("    initial: true\n", ""), ("    terminal: true\n", "    terminal: true\n    initial: true\n")
        ),
        24,
        "phases.closed",
        "a phase cannot be both initial and terminal",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_a_broken_policy_names_line_field_and_what_was_expected(
    text: str, line: int, path: str, fragment: str
) -> None:
    _check(text, line, path, fragment)


def test_the_cases_cover_every_error_form() -> None:
    assert len(CASES) >= 50
    assert len({case[0] for case in CASES}) == len(CASES)


def test_block_style_points_at_the_line_of_the_value() -> None:
    text = _edited(
        (
            "  - {trigger: close, from: review, to: closed, requires: [survey_complete], auto: true}\n",
            "  - trigger: close\n"  # 34
            "    from: review\n"  # 35
            "    to: closed\n"  # 36
            "    requires:\n"  # 37
            "      - survey_complete\n"  # 38
            "      - meetings_held:\n"  # 39
            "          at_least: -6\n"  # 40
            "    auto: true\n",  # 41
        )
    )
    _check(text, 40, "transitions[5].requires[1].meetings_held.at_least", "-6 is out of range")


def test_the_short_form_of_a_parameter_points_at_its_condition() -> None:
    text = _edited(("[survey_complete], auto", "[{meetings_held: -6}], auto"))
    _check(text, 34, "transitions[5].requires[0].meetings_held.at_least", "-6 is out of range")


def test_every_problem_is_reported_in_the_order_of_the_file() -> None:
    text = _edited(
        ("requires: [mentor_assigned]}", "requires: [mentor_asigned]}"),  # 29
        ("timezone: Europe/Amsterdam", "timezone: Mars/Olympus"),  # 6
        ("    initial: true", "    initial: yes"),  # 9
        ("check_in: every 2 weeks", "check_in: every fortnite"),  # 19
    )
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, SOURCE)
    error = caught.value
    assert error.message == f"{SOURCE}: the policy is not valid (4 problems)"
    lines = [int(problem.split(":")[1]) for problem in error.problems]
    assert lines == [6, 9, 19, 29]


def test_graph_problems_wait_until_the_fields_are_valid() -> None:
    text = _edited(("to: matched,", "to: matchd,"), ("timezone: Europe/Amsterdam", "timezone: Nowhere"))
    problem = _the_problem(text)
    assert problem.startswith(f"{SOURCE}:6: program.timezone: ")


def test_an_error_names_the_file_it_was_read_from(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(_edited(("check_in: every 2 weeks", "check_in: every fortnite")), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.problems == [
        f"{path}:19: phases.active.cadence.check_in: "
        '"every fortnite" is not a duration (try "2w" or "14 days")'
    ]
    assert str(caught.value).startswith(f"{path}: the policy is not valid (1 problem)\n")


def test_a_yaml_problem_is_reported_before_any_field_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(_edited(("    initial: true\n", "    initial: true\n    initial: false\n")), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:10: phases.intake.initial: duplicate key")
