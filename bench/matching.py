"""How fast and how good is the optimal matching, next to a greedy baseline on the same input?

    python bench/matching.py [--mentees 2000] [--mentors 500] [--seed 1] [--check]

Builds a synthetic pool (deterministic for a seed): mentors with capacities
1 to 4, skills of uneven popularity (so mentees compete for the scarce ones),
goals, interests, values, languages, time zones, departments, levels and
reporting lines. Scores and constraints are computed once (``prepare``), then
each method assigns on the same input: ``optimal`` (the engine's default),
``stable`` (Gale–Shapley) and ``greedy`` (each mentee in turn takes the best
mentor who still has a place). ``--check`` exits 1 when the optimal assignment
takes 2 s or more, or scores below the greedy baseline.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.domain.participants import Participant
from engine.matching.assignment import blocking_pairs, total
from engine.matching.proposals import Instance, Pool, assign, explain, prepare
from engine.policy.matching import MatchingPolicy

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LIMIT_SECONDS = 2.0
TOPICS = [f"{a} {b}" for a in ("data", "cloud", "sales", "finance", "people", "product", "supply", "legal")
          for b in ("strategy", "analysis", "operations", "architecture", "management", "negotiation",
                    "coaching", "planning", "design", "reporting")]  # fmt: skip
INTERESTS = ["running", "cycling", "chess", "cooking", "music", "theatre", "hiking", "gaming", "reading",
             "photography", "sailing", "yoga", "football", "baking", "travel", "climbing"]  # fmt: skip
VALUES = ["openness", "reliability", "curiosity", "craftsmanship", "inclusion", "autonomy", "ambition",
          "collaboration", "sustainability", "customer focus"]  # fmt: skip
STYLES = ["structured", "flexible", "hands-on", "async", "deep focus", "collaborative", "planner"]
CHANNELS = ["in person", "video", "written", "direct", "informal"]
LANGUAGES = ["nl", "en", "de", "fr", "es", "pl"]
ZONES = ["Europe/Amsterdam"] * 6 + ["Europe/London", "Europe/Warsaw", "America/New_York", "Asia/Kolkata"]
GOALS = ["lead a {t} team", "present {t} to the board", "become an expert in {t}", "move into {t}",
         "improve {t} for customers"]  # fmt: skip


def pool(mentees: int, mentors: int, seed: int) -> Pool:
    rng = random.Random(seed)
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(TOPICS))]

    def topics(k: int) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rng.choices(TOPICS, popularity, k=k)))

    def person(key: str, role: str, manager: str | None, level: int) -> Participant:
        first = rng.choice(LANGUAGES)
        return Participant(
            external_id=key,
            role=role,
            name=key,
            email=f"{key.lower()}@example.com",
            department=f"D{rng.randrange(12)}",
            manager_id=manager,
            level=level,
            skills=topics(rng.randint(3, 6)) if role == "mentor" else (),
            wants=topics(rng.randint(2, 4)) if role == "mentee" else (),
            goals=tuple(rng.choice(GOALS).format(t=rng.choice(TOPICS)) for _ in range(2)),
            interests=tuple(rng.sample(INTERESTS, 3)),
            values=tuple(rng.sample(VALUES, 3)),
            work_style=tuple(rng.sample(STYLES, 2)),
            communication=tuple(rng.sample(CHANNELS, 2)),
            languages=tuple(dict.fromkeys([first, "en"] if rng.random() < 0.9 else [first])),
            timezone=rng.choice(ZONES),
            capacity=rng.randint(1, 4) if role == "mentor" else 1,
        )

    mentor_keys = [f"M{j:04d}" for j in range(mentors)]
    the_mentors = [
        person(
            key,
            "mentor",
            rng.choice(mentor_keys[:j]) if j and rng.random() < 0.5 else None,
            rng.randint(3, 7),
        )
        for j, key in enumerate(mentor_keys)
    ]
    the_mentees = [
        person(
            f"E{i:05d}",
            "mentee",
            rng.choice(mentor_keys) if rng.random() < 0.3 else f"X{i}",
            rng.randint(1, 4),
        )
        for i in range(mentees)
    ]
    managers = {p.key: p.manager_id for p in (*the_mentees, *the_mentors) if p.manager_id}
    return Pool(the_mentees, the_mentors, managers=managers)


def timed_assign(instance: Instance, mode: str) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    chosen = assign(instance, mode)
    return chosen, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=2000)
    parser.add_argument("--mentors", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {_cpu()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    the_pool = pool(args.mentees, args.mentors, args.seed)
    places = sum(m.capacity for m in the_pool.mentors)
    policy = MatchingPolicy()
    print(
        f"pool: {args.mentees} mentees, {args.mentors} mentors (capacities 1-4: {places} places), "
        f"seed {args.seed}; default matching policy (min score {policy.min_score})"
    )
    start = time.perf_counter()
    instance = prepare(the_pool, policy, NOW)
    scoring = time.perf_counter() - start
    pairs = args.mentees * args.mentors
    print(
        f"scores and constraints for all {pairs:,} pairs: {scoring:.2f} s "
        f"({int(instance.acceptable.sum()):,} acceptable)"
    )
    print(f"{'method':<9}{'time':>9}{'matched':>9}{'total score':>13}{'mean':>7}{'blocking pairs':>16}")
    results = {}
    scores = instance.scores.total
    for mode in ("optimal", "stable", "greedy"):
        chosen, seconds = timed_assign(instance, mode)
        value = total(scores, chosen)
        matched = int((chosen >= 0).sum())
        blocking = len(blocking_pairs(scores, instance.acceptable, instance.places, chosen))
        results[mode] = (chosen, seconds, value)
        mean = value / max(matched, 1)
        print(f"{mode:<9}{seconds:>7.2f} s{matched:>9}{value:>13.2f}{mean:>7.3f}{blocking:>16}")
    gain = results["optimal"][2] - results["greedy"][2]
    print(
        f"optimal over greedy: {gain:+.2f} total score ({gain / results['greedy'][2]:+.1%}) "
        "on the same input; "
        f"optimal assignment {results['optimal'][1]:.2f} s (limit {LIMIT_SECONDS:.0f} s), "
        f"with scoring {scoring + results['optimal'][1]:.2f} s"
    )
    start = time.perf_counter()
    explain(instance, results["optimal"][0])
    print(f"explanations for every mentee: {time.perf_counter() - start:.2f} s")
    if args.check and (results["optimal"][1] >= LIMIT_SECONDS or gain < -1e-9):
        sys.exit(1)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or ""


if __name__ == "__main__":
    main()
