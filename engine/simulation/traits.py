"""How each simulated person and pair behaves: drawn once from the seed, never stored.

A trait is drawn from a random generator seeded with the program's seed and
the entity's identity, so the same pair behaves the same way on every day it
is asked about, in every run with that seed, without a table of traits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from engine.policy.surveys import GOAL_LEVELS, Question

EXIT_REASONS = (
    ("mentee left the company", False),
    ("mentee went on long-term leave", False),
    ("mentor changed roles and has no time left", True),
    ("mentor left the company", True),
    ("expectations did not match", True),
)
"""Why pairs end early, and whether the coordinator puts the mentee back in intake afterwards."""


def _rng(seed: int, *identity: object) -> random.Random:
    return random.Random("/".join(map(str, (seed, *identity))))


@dataclass(frozen=True)
class MentorTraits:
    """Days after their first match a mentor finishes the training (``None``: never)."""

    training_after: int | None


@lru_cache(maxsize=4096)
def mentor_traits(seed: int, mentor_key: str) -> MentorTraits:
    """Most mentors finish within the 14 days the policy gives; some late, a few never."""
    rng = _rng(seed, "mentor", mentor_key)
    kind = rng.choices(("prompt", "late", "very late", "never"), (60, 24, 11, 5))[0]
    days = {"prompt": (2, 10), "late": (15, 30), "very late": (31, 44)}.get(kind)
    return MentorTraits(None if days is None else rng.randint(*days))


@dataclass(frozen=True)
class PairTraits:
    """How one relationship goes, from kickoff to its final survey."""

    kickoff_after: int | None  # days after entering kickoff; None: the kickoff never happens
    style: str  # steady | irregular | fading
    fades_after: int  # fading: days into the active phase when the pair stops meeting
    silent_for: int  # fading: how long they stay silent before resuming or being closed
    resumes: bool  # fading: picks up again after the coordinator's escalation
    exit_after: int | None  # days after the relationship opened when it ends early; None: it does not
    exit_reason: str
    rematch_after_exit: bool
    mentee_answers_after: int | None  # days into review; None: never answers the survey
    mentor_answers_after: int | None
    renews: bool  # renews for another round once both answered


@lru_cache(maxsize=16384)
def pair_traits(seed: int, rel_id: int) -> PairTraits:
    """Most pairs meet steadily; some drift, some fade out, a few end early or never answer."""
    rng = _rng(seed, "pair", rel_id)
    kickoff = rng.choices(("soon", "late", "very late", "never"), (62, 25, 9, 4))[0]
    kickoff_days = {"soon": (2, 8), "late": (11, 18), "very late": (19, 32)}.get(kickoff)
    exits = rng.random() < 0.08
    reason, rematch = rng.choice(EXIT_REASONS)
    return PairTraits(
        kickoff_after=None if kickoff_days is None else rng.randint(*kickoff_days),
        style=rng.choices(("steady", "irregular", "fading"), (58, 28, 14))[0],
        fades_after=rng.randint(30, 120),
        silent_for=rng.randint(48, 70),
        resumes=rng.random() < 0.5,
        exit_after=rng.randint(20, 260) if exits else None,
        exit_reason=reason,
        rematch_after_exit=rematch,
        mentee_answers_after=rng.randint(1, 21) if rng.random() < 0.94 else None,
        mentor_answers_after=rng.randint(1, 21) if rng.random() < 0.91 else None,
        renews=rng.random() < 0.12,
    )


@lru_cache(maxsize=4096)
def check_in_interval(seed: int, rel_id: int, style: str, meetings_held: int) -> int:
    """Days between one meeting and the next; irregular pairs sometimes let it slip past the reminder.

    Asked each simulated day of each pair until its next meeting, with the same answer: kept."""
    rng = _rng(seed, "check-in", rel_id, meetings_held)
    return rng.randint(12, 34) if style == "irregular" else rng.randint(10, 18)


def confirms_meeting(seed: int, rel_id: int, kind: str, held_meetings: int) -> str:
    """Who of the pair confirms a meeting through their personal link: the mentee, a little more often
    than the mentor (the one who asked for mentoring keeps track)."""
    return "mentee" if _rng(seed, "confirms", rel_id, kind, held_meetings).random() < 0.6 else "mentor"


def rejects_proposal(seed: int, rel_id: int, mentor_id: int) -> bool:
    """Whether the coordinator turns a proposed pair down (they know something the data does not)."""
    return _rng(seed, "proposal", rel_id, mentor_id).random() < 0.06


COMMENTS = (
    "The regular check-ins kept us going.",
    "We could have set clearer goals at the start.",
    "More time for the group sessions, please.",
    "Meeting in person worked better than online.",
)
"""Free-text answers a respondent sometimes gives (never when the question is optional and they are brief)."""


def survey_answers(
    seed: int, rel_id: int, respondent: str, survey: str, questions: Sequence[Question], goal_count: int
) -> dict[str, object]:
    """What a respondent answers to each question, valid for its type; ``goals`` has a level per goal.

    Satisfaction leans positive, the recommend score follows it, most pairs say they met
    regularly, and about a third write a comment.
    """
    rng = _rng(seed, "answers", rel_id, respondent, survey)
    satisfaction = rng.choices((1, 2, 3, 4, 5), (3, 7, 20, 40, 30))[0]
    answers: dict[str, object] = {}
    for question in questions:
        if question.type == "scale":
            answers[question.id] = satisfaction if question.id == "satisfaction" else rng.randint(2, 5)
        elif question.type == "recommend":
            answers[question.id] = max(0, min(10, 2 * satisfaction - 1 + rng.randint(-1, 1)))
        elif question.type == "yes_no":
            answers[question.id] = rng.random() < (0.9 if satisfaction >= 4 else 0.55)
        elif question.type == "goals":
            answers[question.id] = rng.choices(GOAL_LEVELS, (45, 30, 10, 15), k=goal_count)
        elif question.required or rng.random() < 0.3:
            answers[question.id] = rng.choice(COMMENTS)
    return answers
