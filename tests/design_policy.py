"""The default policy as it was first shipped (version 1): the lifecycle of the product's design, written
as an operator writes a policy file.

Shared by the tests that load it, check the shipped default against it, or read its lines; and how
those tests edit a policy's one `matching:` block (:func:`matching_replaced`, :func:`matching_merged`).
"""

DESIGN_BLOCK = """\
policy: default
version: 1
description: Six-month program with fortnightly check-ins.
program:
  duration: 6 months          # time in `active` before review
  timezone: Europe/Amsterdam
phases:
  intake:
    initial: true
    deadline: {after: 21 days, action: escalate}     # still unmatched: tell the coordinator
  matched:
    on_enter: [notify_pair, enrol_mentor_training]
    deadline: {after: 14 days, action: escalate}
  kickoff:
    on_enter: [schedule_kickoff_meeting, send_mentee_guide]
    deadline: {after: 10 days, action: remind}
  active:
    cadence:
      check_in: every 2 weeks
      remind_after: 3 weeks       # no meeting logged for 3 weeks: nudge the pair
      escalate_after: 6 weeks     # still nothing: the coordinator hears of it
  review:
    on_enter: [{send_survey: final}]
    deadline: {after: 14 days, action: remind}
  closed:
    terminal: true
    on_enter: [{send_survey: closing}]
transitions:
  - {trigger: match, from: intake, to: matched, requires: [mentor_assigned]}
  - {trigger: schedule_kickoff, from: matched, to: kickoff, requires: [mentor_trained], auto: true}
  - {trigger: start, from: kickoff, to: active, requires: [kickoff_held], auto: true}
  - {trigger: review, from: active, to: review, after: program.duration, auto: true}
  - {trigger: renew, from: review, to: active, requires: [survey_complete]}
  - {trigger: close, from: review, to: closed, requires: [survey_complete], auto: true}
  - {trigger: close, from: "*", to: closed, requires: [reason]}
"""

DESIGN_DIGEST = "sha256:1a9b8b4752bd12c20629f9c397817213f7b9b3c6eff44660f174c7b6ba14b390"
"""The digest of DESIGN_BLOCK, which was the shipped default's until its version 2.

It never changes: a test that adds nothing to DESIGN_BLOCK (a policy without a
newer block) and still gets this digest proves that block's absence keeps a version.
"""

SHIPPED_DEFAULT_DIGEST = "sha256:f3b66a059aac854de222f4e7197316019d6c519f1a54d85cb48c14e5fa12fc2f"
"""The digest of policies/default.yaml as shipped (version 2: program goals, resources, qualities, sessions).

The one place to update when default.yaml changes on purpose; print the new one with
``python -c "from engine.policy.model import load_policy, shipped_policies;
print(load_policy(shipped_policies()['default']).digest)"``.
"""


def _matching_start(lines: list[str]) -> int:
    starts = [i for i, line in enumerate(lines) if line.split("#")[0].rstrip() == "matching:"]
    assert len(starts) == 1, "the policy should have one top-level matching: block"
    return starts[0]


def matching_replaced(policy_text: str, section: str) -> str:
    """``policy_text`` with its one top-level ``matching:`` block replaced by ``section`` (a whole block)."""
    lines = policy_text.splitlines(keepends=True)
    start = end = _matching_start(lines)
    end += 1
    while end < len(lines) and (lines[end][:1].isspace() or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + section + "".join(lines[end:])


def matching_merged(policy_text: str, keys: str) -> str:
    """``policy_text`` with ``keys`` (indented, or under a ``matching:`` line of their own) added to its
    one top-level ``matching:`` block."""
    lines = policy_text.splitlines(keepends=True)
    added = keys.split("\n", 1)[1] if keys.startswith("matching:") else keys
    lines.insert(_matching_start(lines) + 1, added if added.endswith("\n") else added + "\n")
    return "".join(lines)
