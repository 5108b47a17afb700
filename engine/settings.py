"""Where mentorflow finds its database and policy.

In order: the command-line option, the environment (``MENTORFLOW_DATABASE_URL``,
``MENTORFLOW_POLICY``), the settings file (``mentorflow.toml`` in the working
directory, or the file ``MENTORFLOW_CONFIG`` names), then the defaults: the
SQLite file ``mentorflow.db`` here and the shipped default policy.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///mentorflow.db"
SETTINGS_FILE = "mentorflow.toml"


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one command."""

    database_url: str
    policy: str | None
    source: str


def _settings_file(config: str | Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    named = str(config) if config else os.environ.get("MENTORFLOW_CONFIG")
    path = Path(named) if named else Path(SETTINGS_FILE)
    if not path.exists():
        if named:
            raise ConfigError(f"MENTORFLOW_CONFIG names {named!r}, which does not exist")
        return None
    try:
        return path, tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable settings file: {exc}") from None


def settings_document(config: str | Path | None = None) -> tuple[Path | None, dict[str, Any]]:
    """The settings file in force (or the one ``config`` names) and its tables, for the sections other
    modules read (``[channels]``).

    ``(None, {})`` when there is no settings file.
    """
    found = _settings_file(config)
    return found if found else (None, {})


def settings_path() -> str | None:
    """The absolute path of the settings file in force, ``None`` without one: what a served deployment
    carries, so its runs read the same file wherever a worker starts them."""
    found = _settings_file()
    return str(found[0].resolve()) if found else None


def resolve(
    database: str | None = None, policy: str | None = None, *, config: str | Path | None = None
) -> Settings:
    """Resolve the settings, the explicit arguments first (``config``: this settings file, not the one
    in force)."""
    found = _settings_file(config)
    data = found[1] if found else {}
    source = str(found[0]) if found else "defaults"
    url = database or os.environ.get("MENTORFLOW_DATABASE_URL") or _get(data, "database", "url", found)
    chosen = policy or os.environ.get("MENTORFLOW_POLICY") or _get(data, "program", "policy", found)
    if chosen and found and not Path(chosen).is_absolute() and chosen.endswith((".yaml", ".yml")):
        candidate = found[0].parent / chosen
        chosen = str(candidate) if candidate.exists() else chosen
    return Settings(url or DEFAULT_DATABASE_URL, chosen or None, source)


def _get(data: dict[str, Any], table: str, key: str, found: tuple[Path, Any] | None) -> str | None:
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{found[0] if found else SETTINGS_FILE}: [{table}] must be a table")
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{found[0] if found else SETTINGS_FILE}: {table}.{key} must be text")
    return value


DEFAULT_SCHEDULES: dict[str, str] = {
    "cadence": "0 7 * * *",  # daily at 07:00
    "delivery": "*/5 * * * *",  # every five minutes
    "matching": "0 8 * * 1",  # Mondays at 08:00
}


def schedules() -> dict[str, str | None]:
    """When ``mentorflow serve`` runs each flow: ``[schedules]``, cron in the program's time zone.

    A flow the file leaves out keeps its default; ``"off"`` (or ``""``) leaves it unscheduled.
    """
    found = _settings_file()
    shown = str(found[0]) if found else SETTINGS_FILE
    section = found[1].get("schedules", {}) if found else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{shown}: [schedules] must be a table")
    chosen: dict[str, str | None] = dict(DEFAULT_SCHEDULES)
    for name, value in section.items():
        if name not in DEFAULT_SCHEDULES:
            raise ConfigError(
                f"{shown}: schedules.{name}: no such flow to schedule "
                f"(expected one of: {', '.join(DEFAULT_SCHEDULES)})"
            )
        text = value.strip() if isinstance(value, str) else None
        if text is not None and text.lower() in ("", "off"):
            chosen[name] = None
        elif text is None or len(text.split()) != 5:
            raise ConfigError(
                f"{shown}: schedules.{name}: {value!r} is not a cron expression "
                '(five fields, minute hour day month weekday, e.g. "0 7 * * *"; or "off")'
            )
        else:
            chosen[name] = text
    return chosen


def password_secret(config: str | Path | None = None) -> str | None:
    """``database.password_secret``: the name of a Prefect Secret block that holds the database password."""
    found = _settings_file(config)
    return _get(found[1], "database", "password_secret", found) if found else None


def without_password(url: str) -> str:
    """``url`` with its password removed (``postgresql+psycopg://app:pw@db/x`` → ``…://app@db/x``):
    what a Prefect deployment, flow run or log may hold."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}@{host}{slash}{tail}"


def has_password(url: str) -> bool:
    """Whether ``url`` carries a password."""
    return without_password(url) != url


def with_credentials(url: str, config: str | Path | None = None) -> str:
    """``url`` with the password the environment or the settings file gives for the same database.

    ``MENTORFLOW_DATABASE_URL`` or ``database.url`` naming the same user, host and database supply it;
    otherwise ``url`` as it is (the driver then reads ``PGPASSWORD`` or ``~/.pgpass``).
    """
    if has_password(url):
        return url
    found = _settings_file(config)
    candidates = [
        os.environ.get("MENTORFLOW_DATABASE_URL"),
        _get(found[1], "database", "url", found) if found else None,
    ]
    for candidate in candidates:
        if candidate and has_password(candidate) and without_password(candidate) == url:
            return candidate
    return url


LINK_KEYS_VARIABLE = "MENTORFLOW_LINK_KEYS"
MIN_KEY_LENGTH = 32
"""The shortest secret key a personal link is signed with: shorter ones are guessable offline."""
_MAKE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


@dataclass(frozen=True)
class WebSettings:
    """``[web]``: the address participants open (``base_url``) and the keys their links are signed with.

    ``secret_keys`` come newest first: links are signed with the first, and a link signed with any of
    them opens. To rotate, put the new key in front and keep the old ones until their links expire.
    ``source`` names where the keys came from, for errors.
    """

    base_url: str | None
    secret_keys: tuple[str, ...]
    source: str
    trusted_header: str | None = None
    """The header an SSO proxy names the signed-in coordinator's account in (off when ``None``)."""
    trusted_proxies: tuple[str, ...] = ()
    """The client addresses whose ``trusted_header`` is believed; from any other it is ignored."""
    participant_rate_limit: int = 60
    """Requests per minute each client may make to the participant pages (``/l/...``); 0: no limit."""


def web_settings(config: str | Path | None = None) -> WebSettings:
    """``[web]`` of the settings file; ``MENTORFLOW_LINK_KEYS`` (comma-separated, newest first) overrides
    its ``secret_keys``. Neither is checked to be present here: :func:`check_link_keys` does that where
    keys are needed."""
    found = _settings_file(config)
    shown = str(found[0]) if found else SETTINGS_FILE
    section = found[1].get("web", {}) if found else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{shown}: [web] must be a table")
    base_url = _get(found[1], "web", "base_url", found) if found else None
    header, proxies = _trusted(section, shown)
    rate = participant_rate_limit(section, shown)
    variable = os.environ.get(LINK_KEYS_VARIABLE, "").strip()
    if variable:
        keys = tuple(key.strip() for key in variable.split(",") if key.strip())
        return WebSettings(base_url, keys, LINK_KEYS_VARIABLE, header, proxies, rate)
    listed = section.get("secret_keys", [])
    if not isinstance(listed, list) or not all(isinstance(key, str) for key in listed):
        raise ConfigError(f'{shown}: web.secret_keys must be a list of text (secret_keys = ["...", ...])')
    return WebSettings(base_url, tuple(listed), f"{shown}: web.secret_keys", header, proxies, rate)


def participant_rate_limit(section: dict[str, Any], shown: str) -> int:
    """``participant_rate_limit`` of ``[web]``: a whole number of requests per minute, 0 for none;
    ConfigError (``{shown}: web.participant_rate_limit: ...``) otherwise."""
    value = section.get("participant_rate_limit", WebSettings.participant_rate_limit)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise ConfigError(
            f"{shown}: web.participant_rate_limit: {value!r} is not a number of requests per minute "
            "per client, from 0 (no limit) to 100000 (participant_rate_limit = 60)"
        )
    return value


def _trusted(section: dict[str, Any], shown: str) -> tuple[str | None, tuple[str, ...]]:
    """``trusted_header`` and ``trusted_proxies`` of ``[web]``: both, or neither."""
    header, proxies = section.get("trusted_header"), section.get("trusted_proxies", [])
    if header is not None and (not isinstance(header, str) or not header.strip()):
        raise ConfigError(
            f'{shown}: web.trusted_header must be a header name (trusted_header = "X-Forwarded-User")'
        )
    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise ConfigError(f'{shown}: web.trusted_proxies must be a list of addresses (["10.0.0.1"])')
    if header is not None and not proxies:
        raise ConfigError(
            f"{shown}: web.trusted_header needs trusted_proxies: the addresses of the SSO proxy"
        )
    return (header.strip() if header else None), tuple(p.strip() for p in proxies)


def check_link_keys(keys: tuple[str, ...] | list[str], source: str = "the link keys") -> tuple[str, ...]:
    """``keys`` if they can sign personal links: at least one, each of :data:`MIN_KEY_LENGTH` characters
    or more; a ConfigError that says what to set otherwise (``source``: where they came from)."""
    if not keys:
        raise ConfigError(
            "no key to sign personal links with: set secret_keys under [web] in the settings file "
            f'(secret_keys = ["<random text of {MIN_KEY_LENGTH}+ characters>"]) or {LINK_KEYS_VARIABLE} '
            f"(comma-separated, newest first); make a key with: {_MAKE_KEY}"
        )
    for number, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{source}: key {number} is {len(key)} characters long; a link key needs at least "
                f"{MIN_KEY_LENGTH} (make one with: {_MAKE_KEY})"
            )
    return tuple(keys)
