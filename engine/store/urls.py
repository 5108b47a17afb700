"""Database URLs: the SQLite file a URL names, made absolute, or shown without its password."""

from __future__ import annotations

from pathlib import Path


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names (as given, maybe relative); ``None`` for another database or memory."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    return path if path and path != ":memory:" else None


def absolute(url: str) -> str:
    """A SQLite URL with its path made absolute; any other URL as it is."""
    from sqlalchemy import make_url

    path = sqlite_file(url)
    if not path or Path(path).is_absolute():
        return url
    return make_url(url).set(database=str(Path(path).resolve())).render_as_string(hide_password=False)
