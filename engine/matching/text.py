"""Comparing what people write: list items and goal sentences, after normalising.

HR exports are typed by people: ``Projectmanagement``, ``project management``
and ``Project-Management`` are one skill, and ``Søren`` and ``Soren`` one name.
Items are compared on a key without case, accents, spaces or punctuation;
goal sentences are compared on their content words, where a word also matches
a longer word it begins (``lead`` meets ``leadership``, ``coach`` meets
``coaching``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Letters NFKD does not take apart.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ß": "ss"}
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
MIN_WORD = 4
STOPWORDS = frozenset(
    """
    about across after also been before being better between could each every first from have help
    here into learn more most move next other over should some such than that their them then there
    they this under want were what when where which will with within would year years your become
    able good grow make
    binnen door eigen jaar kunnen meer mijn naar onze over waar deze willen worden wordt zijn
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without accents: ``Zoë Çelik`` becomes ``zoe celik``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_FOLD)


@lru_cache(maxsize=65536)
def item_key(text: str) -> str:
    """The key a list item is compared on: ``Project-Management`` and ``projectmanagement`` agree."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def item_keys(items: Iterable[str]) -> dict[str, str]:
    """Each distinct key of ``items`` with the first spelling it was written in, in order."""
    keys: dict[str, str] = {}
    for item in items:
        key = item_key(item)
        if key:
            keys.setdefault(key, item)
    return keys


@lru_cache(maxsize=65536)
def content_words(text: str) -> frozenset[str]:
    """The words of a sentence that carry meaning: at least four letters, not a stop word."""
    return frozenset(
        word for word in _NOT_WORD.split(fold(text)) if len(word) >= MIN_WORD and word not in STOPWORDS
    )


def words_meet(a: str, b: str) -> bool:
    """Whether two content words match: equal, or one begins the other (``lead``, ``leadership``)."""
    return a.startswith(b) or b.startswith(a)


def goals_with_words(goals: Sequence[str]) -> list[tuple[str, frozenset[str]]]:
    """A mentee's distinct goals that have content words, each with those words, in order."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for goal in goals:
        words = content_words(goal)
        if words:
            found.setdefault(item_key(goal), (goal, words))
    return list(found.values())


def goal_hits(goal: frozenset[str], offered: frozenset[str]) -> list[tuple[str, str]]:
    """The (goal word, offered word) pairs that meet, in a stable order."""
    # words_meet inlined: this runs for every goal of every proposed pair
    return sorted((a, b) for a in goal for b in offered if a.startswith(b) or b.startswith(a))
