"""A realistic program population, generated from a seed: who takes part, and when HR imports them.

Pure and seeded: the same seed gives the same people, byte for byte. The
organisation has departments with reporting lines (some mentees report to a
mentor, which the matching must respect), mentors a few levels above the
mentees, varied skills, goals, values, languages and time zones, and mentor
capacities of 1 to 4. All mentors and most mentees arrive on the first day;
the rest join in monthly waves, as new hires do.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from engine.domain.participants import CSV_COLUMNS, Participant

DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "Engineering": ("software architecture", "code review", "python", "testing", "data engineering",
                    "technical leadership", "cloud infrastructure", "agile"),
    "Finance": ("financial planning", "risk management", "reporting", "financial modelling", "treasury",
                "negotiation"),
    "Sales": ("negotiation", "account management", "presentations", "networking", "enterprise sales"),
    "Operations": ("supply chain", "lean", "process improvement", "planning", "people management"),
    "HR": ("coaching", "conflict resolution", "feedback", "recruitment", "career planning"),
    "Marketing": ("brand strategy", "content marketing", "market research", "campaign analytics",
                  "presentations"),
    "Product": ("product strategy", "user research", "roadmapping", "prioritisation",
                "stakeholder management"),
    "Legal": ("contract law", "compliance", "privacy", "negotiation", "risk management"),
}  # fmt: skip
GENERAL_SKILLS = (
    "public speaking", "people management", "career planning", "time management", "feedback",
    "stakeholder management", "presentations", "coaching",
)  # fmt: skip
GOALS = (
    "leadership: become a team leader", "leadership: lead a project across departments",
    "communication: present with confidence to the board", "career: grow into a senior role within two years",
    "communication: give better feedback", "network: build a network outside my team",
    "career: move into a new department", "career: finish a professional certification",
    "communication: handle difficult conversations", "balance work and study",
    "leadership: own a product area",
    "network: speak Dutch at work",
)  # fmt: skip
"""Development goals, most written ``ID: title`` for the program goal of the default policy they serve."""
INTERESTS = (
    "cycling", "running", "cooking", "chess", "photography", "football", "yoga", "reading", "theatre",
    "board games", "hiking", "sailing", "music production", "podcasts", "travel", "baking", "climbing",
    "open source", "volunteering", "gardening",
)  # fmt: skip
VALUES = (
    "openness", "reliability", "craftsmanship", "inclusion", "collaboration", "curiosity", "ambition",
    "autonomy", "sustainability", "customer focus",
)  # fmt: skip
WORK_STYLES = ("structured", "flexible", "hands-on", "deep focus", "planner", "spontaneous", "async",
               "collaborative")  # fmt: skip
COMMUNICATION = ("direct", "written", "in person", "video", "informal")
QUALITIES = ("empathy", "patience", "reliability", "communication", "openness", "honesty", "enthusiasm",
             "curiosity")  # fmt: skip
"""Personal qualities: those a mentor brings, those a mentee looks for in a mentor."""
EXTRA_LANGUAGES = ("de", "fr", "es", "tr", "ar", "pl", "pt", "it", "hi", "zh")
TIMEZONES = (
    ("Europe/Amsterdam", 80), ("Europe/London", 6), ("Europe/Brussels", 4), ("Europe/Berlin", 3),
    ("America/New_York", 3), ("Asia/Singapore", 2), ("Asia/Kolkata", 2),
)  # fmt: skip
FIRST_NAMES = (
    "Zoë", "Jeroen", "Fatima", "Søren", "Marieke", "Daniel", "Anouk", "Thijs", "Sanne", "Lotte", "Ruben",
    "Aïcha", "Bram", "Noor", "Joël", "Priya", "Emma", "Ilse", "Tomasz", "Lucía", "Mehmet", "Yara", "Sem",
    "Fleur", "Kofi", "Mei", "Arjun", "Hanna", "Luuk", "Sofia", "Youssef", "Eva", "Milan", "Olga", "Daan",
    "Amira", "Jesse", "Chloé", "Finn", "Nadia", "Rik", "Ana", "Stijn", "Ayşe", "Wouter", "Inès", "Lars",
    "Esther", "Kwame", "Julia",
)  # fmt: skip
LAST_NAMES = (
    "Çelik", "van den Bergh", "El Amrani", "Ødegaard", "de Vries", "Okafor", "Jansen", "Bakker", "Visser",
    "Smit", "Mulder", "Benali", "de Jong", "Hendriks", "Dupont", "Raman", "Meijer", "van Dijk", "Kowalski",
    "Fernández", "Yılmaz", "Boateng", "Chen", "Sharma", "de Boer", "Peters", "Bos", "Vos", "Dekker",
    "Nowak", "Haddad", "van Leeuwen", "Schmidt", "Rossi", "Kaya", "Santos", "Verbeek", "Brouwer", "Nguyen",
    "Maas",
)  # fmt: skip
WAVE_DAYS = (30, 61, 91, 122)
"""Days on which later mentees join: the first four months, one import each."""
FIRST_WAVE_SHARE = 0.6


@dataclass(frozen=True)
class Program:
    """The people of a simulated program, and the day (from the start) on which each is imported."""

    seed: int
    participants: tuple[Participant, ...]
    joins: dict[str, int]

    def arriving(self, day: int) -> list[Participant]:
        """Who HR imports on ``day`` of the program, in a stable order."""
        return [p for p in self.participants if self.joins[p.key] == day]

    @property
    def import_days(self) -> list[int]:
        return sorted(set(self.joins.values()))


def generate_program(seed: int, mentees: int = 150, mentors: int = 60, *, days: int = 365) -> Program:
    """Mentors and mentees with varied profiles, reporting lines and capacities, and their import days."""
    if mentees < 1 or mentors < 1:
        raise ValueError("a program needs at least one mentee and one mentor")
    rng = random.Random(f"mentorflow-demo/{seed}")
    names = _Names(rng)
    departments = list(DEPARTMENTS)
    heads = {dept: f"E{9000 + i:04d}" for i, dept in enumerate(departments)}  # not in the program
    people: list[Participant] = []
    seniors: dict[str, list[str]] = {dept: [] for dept in departments}
    for number in range(mentors):
        # every department has a mentor; the rest are spread at random
        dept = departments[number] if number < len(departments) else rng.choice(departments)
        key = f"E{1000 + number:04d}"
        manager = rng.choice(seniors[dept]) if seniors[dept] and rng.random() < 0.4 else heads[dept]
        people.append(_mentor(rng, names, key, dept, manager))
        seniors[dept].append(key)
    for number in range(mentees):
        dept = rng.choice(departments)
        key = f"E{3000 + number:04d}"
        lead = f"E{8000 + departments.index(dept) * 10 + rng.randrange(5):04d}"  # team leads, not in it
        manager = rng.choice(seniors[dept]) if seniors[dept] and rng.random() < 0.3 else lead
        people.append(_mentee(rng, names, key, dept, manager))
    people = [_with_qualities(seed, p) for p in people]
    waves = [d for d in WAVE_DAYS if d < days - 30] or [0]
    joins = {
        p.key: 0 if p.role == "mentor" or rng.random() < FIRST_WAVE_SHARE else rng.choice(waves)
        for p in people
    }
    return Program(seed, tuple(people), joins)


class _Names:
    """Unique names and email addresses drawn from a varied pool."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._emails: set[str] = set()

    def draw(self) -> tuple[str, str]:
        first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, count = f"{local}@example.com", 1
        while email in self._emails:
            count += 1
            email = f"{local}{count}@example.com"
        self._emails.add(email)
        return f"{first} {last}", email


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ı", "i"))
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()


def _some(rng: random.Random, pool: Sequence[str], low: int, high: int) -> tuple[str, ...]:
    return tuple(rng.sample(list(pool), rng.randint(low, min(high, len(pool)))))


def _languages(rng: random.Random) -> tuple[str, ...]:
    if rng.random() < 0.03:
        return ("nl",)
    found = ["nl", "en"] if rng.random() < 0.75 else ["en"]
    if rng.random() < 0.3:
        found.append(rng.choice(EXTRA_LANGUAGES))
    return tuple(found)


def _timezone(rng: random.Random) -> str:
    zones, weights = zip(*TIMEZONES, strict=True)
    return str(rng.choices(zones, weights)[0])


def _profile(rng: random.Random, names: _Names, key: str, dept: str, manager: str) -> dict[str, object]:
    name, email = names.draw()
    return {
        "external_id": key,
        "name": name,
        "email": email,
        "department": dept,
        "manager_id": manager,
        "goals": _some(rng, GOALS, 1, 2),
        "interests": _some(rng, INTERESTS, 1, 3),
        "values": _some(rng, VALUES, 2, 3),
        "work_style": _some(rng, WORK_STYLES, 1, 2),
        "communication": _some(rng, COMMUNICATION, 1, 2),
        "languages": _languages(rng),
        "timezone": _timezone(rng),
    }


def _mentor(rng: random.Random, names: _Names, key: str, dept: str, manager: str) -> Participant:
    skills = _some(rng, DEPARTMENTS[dept], 2, 4) + _some(rng, GENERAL_SKILLS, 1, 2)
    return Participant(
        role="mentor",
        level=rng.randint(4, 7),
        skills=tuple(dict.fromkeys(skills)),
        capacity=rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0],
        trained=rng.random() < 0.35,
        **_profile(rng, names, key, dept, manager),
    )


def _mentee(rng: random.Random, names: _Names, key: str, dept: str, manager: str) -> Participant:
    wants = _some(rng, DEPARTMENTS[dept], 1, 2) + _some(rng, GENERAL_SKILLS, 1, 2)
    return Participant(
        role="mentee",
        level=rng.randint(1, 4),
        skills=_some(rng, DEPARTMENTS[rng.choice(list(DEPARTMENTS))], 1, 2),
        wants=tuple(dict.fromkeys(wants)),
        **_profile(rng, names, key, dept, manager),
    )


def _with_qualities(seed: int, person: Participant) -> Participant:
    """``person`` with personal qualities, a mentor 2 to 4 they bring, a mentee 1 or 2 they look for.

    Drawn from a generator of their own (seed and key), not the program's: the rest of everyone's
    profile, and so every figure a seed gave before qualities, stays as it was.
    """
    rng = random.Random(f"mentorflow-demo/{seed}/qualities/{person.key}")
    low, high = (2, 4) if person.role == "mentor" else (1, 2)
    return person.model_copy(update={"qualities": _some(rng, QUALITIES, low, high)})


def participants_csv(people: Sequence[Participant]) -> str:
    """The participants as a CSV in the columns HR exports (``CSV_COLUMNS``), for ``participants import``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for person in people:
        values = person.model_dump()
        writer.writerow([_cell(values[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple | list):
        return ";".join(value)
    return str(value)
