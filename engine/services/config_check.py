"""``mentorflow config check``: every problem of a settings file, each with its line.

The settings a command reads (:mod:`engine.settings`: ``[database]``,
``[program]``, ``[schedules]``) and the ones delivery reads
(:mod:`engine.delivery.channels.config`: ``[notifications]``, ``[channels]``)
are checked all at once, so a typo shows before the first message is due,
and not only the first typo. The channels are finally built the way delivery
builds them, so nothing this check passes is refused at delivery.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.delivery.channels.config import ChannelsSection, NotificationsSection, channels_from
from engine.errors import ConfigError
from engine.policy.problems import describe_errors, shown, unknown_name
from engine.policy.yamlsafe import LoadedYaml
from engine.services.config_lines import SettingsText, cron_problem, read_settings_text
from engine.settings import DEFAULT_SCHEDULES, SETTINGS_FILE

Loc = tuple[str | int, ...]

SECTIONS = ("database", "program", "notifications", "channels", "schedules", "web", "events")
KEYS = {"database": ("url", "password_secret"), "program": ("policy",)}
"""The keys of the tables :mod:`engine.settings` reads (the others are checked by their models)."""


class _Delivery(BaseModel):
    """The two tables delivery reads, as one model, so that one validation reports all their errors."""

    model_config = ConfigDict(extra="ignore")

    notifications: NotificationsSection = NotificationsSection()
    channels: ChannelsSection = ChannelsSection()


@dataclass
class SettingsCheck:
    """The outcome of a check: the file, its problems (``file:line: key: what``) and its parsed data."""

    path: Path
    problems: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    channels_valid: bool = False  # [notifications] and [channels] validate: --connect may try them

    @property
    def ok(self) -> bool:
        return not self.problems


def settings_file_in_force() -> Path:
    """The settings file commands read: ``MENTORFLOW_CONFIG``, else ``mentorflow.toml`` here."""
    return Path(os.environ.get("MENTORFLOW_CONFIG") or SETTINGS_FILE)


def check_settings(path: Path) -> SettingsCheck:
    """Every problem of the settings file ``path``, in the order of the file."""
    read = read_settings_text(path)
    if read.data is None:
        return SettingsCheck(path, [read.problem or f"{path}: cannot be read"])
    found = [
        *_sections(read.data),
        *_plain_tables(read.data),
        *_policy(read),
        *_schedules(read.data.get("schedules")),
        *_web(read.data.get("web")),
        *_events(read.data),
    ]
    delivery, valid = _delivery(read.located)
    rules = _channel_rules(read.data)
    problems = [*_at_lines(read, [*found, *rules]), *delivery]
    if valid and not rules:
        problems += _built(read)
    ordered = sorted(problems, key=lambda item: item[0])
    return SettingsCheck(path, list(dict.fromkeys(text for _, text in ordered)), read.data, valid)


def _at_lines(read: SettingsText, found: list[tuple[Loc, str]]) -> list[tuple[int, str]]:
    """``(line, "file:line: key: what")`` of each problem found at a key."""
    lines = [(read.located.line_for(loc), loc, message) for loc, message in found]
    return [(line, f"{read.path}:{line}: {_key(loc)}{message}") for line, loc, message in lines]


def _key(loc: Loc) -> str:
    return ".".join(str(part) for part in loc) + ": " if loc else ""


def _events(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """``[[events.subscribers]]``: each problem as ``events deliver`` would find it."""
    from engine.delivery.event_hooks import read_subscribers

    return read_subscribers(dict(data))[1]


def _sections(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    return [((name,), unknown_name("section", name, SECTIONS)) for name in data if name not in SECTIONS]


def _plain_tables(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """``[database]`` and ``[program]``: known keys, each text; the database URL one a driver knows."""
    found: list[tuple[Loc, str]] = []
    for table, keys in KEYS.items():
        section = data.get(table, {})
        if not isinstance(section, dict):
            found.append(((table,), f"must be a table ([{table}])"))
            continue
        for key, value in section.items():
            if key not in keys:
                found.append(((table, key), unknown_name("key", key, keys)))
            elif not isinstance(value, str):
                found.append(((table, key), f"{shown(value)} is not text (expected a quoted string)"))
    url = data.get("database", {}).get("url") if isinstance(data.get("database"), dict) else None
    if isinstance(url, str) and not re.match(r"^(sqlite|postgresql)(\+[a-z0-9_]+)?://", url):
        found.append(
            (("database", "url"), "not a database URL (expected sqlite:///FILE or postgresql+psycopg://...)")
        )
    return found


def _policy(read: SettingsText) -> list[tuple[Loc, str]]:
    """``program.policy``: a shipped policy by name, or a policy file that loads."""
    from engine.errors import PolicyError
    from engine.policy.model import load_policy, shipped_policies

    program = (read.data or {}).get("program")
    name = program.get("policy") if isinstance(program, dict) else None
    if not isinstance(name, str) or name in shipped_policies():
        return []
    candidate = Path(name)
    if not candidate.is_absolute() and (read.path.parent / name).exists():
        candidate = read.path.parent / name
    if not candidate.is_file():
        shipped = ", ".join(sorted(shipped_policies()))
        return [(("program", "policy"), f"{shown(name)} is neither a shipped policy ({shipped}) nor a file")]
    try:
        load_policy(candidate)
    except PolicyError as exc:
        return [
            (
                ("program", "policy"),
                f"{shown(name)} does not load: {exc.message} (see `mentorflow policy validate`)",
            )
        ]
    return []


def _schedules(section: object) -> list[tuple[Loc, str]]:
    """``[schedules]``: known flows, each a five-field cron expression or "off"."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [(("schedules",), "must be a table ([schedules])")]
    found: list[tuple[Loc, str]] = []
    for name, value in section.items():
        where: Loc = ("schedules", name)
        if name not in DEFAULT_SCHEDULES:
            found.append((where, unknown_name("flow to schedule", name, DEFAULT_SCHEDULES)))
        elif not isinstance(value, str):
            found.append(
                (where, f'{shown(value)} is not text (expected a cron expression in quotes, or "off")')
            )
        elif value.strip().lower() not in ("", "off") and (wrong := cron_problem(value)):
            found.append(
                (where, f'{shown(value)} is not a cron expression: {wrong} (e.g. "0 7 * * *", or "off")')
            )
    return found


WEB_KEYS = ("base_url", "secret_keys", "trusted_header", "trusted_proxies", "participant_rate_limit")


def _web(section: object) -> list[tuple[Loc, str]]:
    """``[web]``: the address personal links point to and the keys that sign them, as links need them."""
    from engine.delivery.links import checked_base_url
    from engine.settings import check_link_keys, participant_rate_limit

    if section is None:
        return []
    if not isinstance(section, dict):
        return [(("web",), "must be a table ([web])")]
    found: list[tuple[Loc, str]] = [
        (("web", key), unknown_name("key", key, WEB_KEYS)) for key in section if key not in WEB_KEYS
    ]
    base_url = section.get("base_url")
    if base_url is not None:
        try:
            checked_base_url(base_url if isinstance(base_url, str) else shown(base_url))
        except ConfigError as exc:
            found.append((("web", "base_url"), exc.message.removeprefix("web.base_url: ")))
    keys = section.get("secret_keys")
    if keys is not None:
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            found.append((("web", "secret_keys"), 'must be a list of text (secret_keys = ["...", ...])'))
        else:
            try:
                check_link_keys(tuple(keys), "secret_keys")
            except ConfigError as exc:
                found.append((("web", "secret_keys"), exc.message.removeprefix("secret_keys: ")))
    try:
        participant_rate_limit(section, "")
    except ConfigError as exc:
        found.append((("web", "participant_rate_limit"), exc.message.split(": ", 2)[-1]))
    return found + _trusted_sign_on(section)


def _trusted_sign_on(section: dict[str, Any]) -> list[tuple[Loc, str]]:
    """``trusted_header`` (a header name) and ``trusted_proxies`` (the proxy's addresses): both or neither."""
    import ipaddress

    header, proxies = section.get("trusted_header"), section.get("trusted_proxies")
    found: list[tuple[Loc, str]] = []
    if header is not None and (not isinstance(header, str) or not header.strip()):
        found.append(
            (("web", "trusted_header"), 'must be a header name (trusted_header = "X-Forwarded-User")')
        )
    if proxies is not None:
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            found.append((("web", "trusted_proxies"), 'must be a list of addresses (["10.0.0.1"])'))
        else:
            for proxy in proxies:
                try:
                    ipaddress.ip_address(proxy.strip())
                except ValueError:
                    found.append((("web", "trusted_proxies"), f"{proxy!r} is not an IP address"))
    if header is not None and not proxies:
        found.append((("web", "trusted_header"), "needs trusted_proxies: the addresses of the SSO proxy"))
    return found


def _delivery(located: LoadedYaml) -> tuple[list[tuple[int, str]], bool]:
    """The field-level problems of ``[notifications]`` and ``[channels]``, all of them, with their lines."""
    data = {k: v for k, v in located.data.items() if k in ("notifications", "channels")}
    try:
        _Delivery.model_validate(data)
    except ValidationError as exc:
        texts = describe_errors(located, exc.errors(), _Delivery)
        return [(_line_of(text), _toml_words(text)) for text in texts], False
    return [], True


def _line_of(text: str) -> int:
    match = re.match(r"^.*?:(\d+): ", text)
    return int(match.group(1)) if match else 1


def _toml_words(text: str) -> str:
    """The policy reader's YAML wording (``expected `host:` in``) in TOML's (``expected `host = ...` in``)."""
    return re.sub(r"\(expected `([^`]+):` in ", r"(expected `\1 = ...` in ", text)


def _channel_rules(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """The rules delivery applies across keys: a channel used needs its table, its variables set."""
    notes, chans = _table(data, "notifications"), _table(data, "channels")
    used = _used(chans)
    found: list[tuple[Loc, str]] = []
    email = chans["email"] if isinstance(chans.get("email"), dict) else None
    webhook = chans["webhook"] if isinstance(chans.get("webhook"), dict) else None
    if "email" in used or email is not None:
        if email is None:
            found.append((used["email"], "email is routed to, but there is no [channels.email] (host, from)"))
        elif isinstance(email.get("password_env"), str) and os.environ.get(email["password_env"]) is None:
            found.append(
                (("channels", "email", "password_env"), f"names {email['password_env']}, which is not set")
            )
        if notes.get("coordinator_email") is None:
            found.append((("notifications", "coordinator_email"), "is needed to send email (it is missing)"))
    if "webhook" in used or webhook is not None:
        found += _webhook_rules(webhook, used)
    return found


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``data[name]`` if it is a table (its type is checked, and reported, elsewhere), else empty."""
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _used(chans: Mapping[str, Any]) -> dict[str, Loc]:
    """Each channel messages are routed to, with where the first route to it is written."""
    used: dict[str, Loc] = {}
    default = chans.get("default", [])
    for name in default if isinstance(default, list) else []:
        used.setdefault(str(name), ("channels", "default"))
    for action, names in _table(chans, "routes").items():
        for name in names if isinstance(names, list) else []:
            used.setdefault(str(name), ("channels", "routes", action))
    return used


def _webhook_rules(webhook: Mapping[str, Any] | None, used: Mapping[str, Loc]) -> list[tuple[Loc, str]]:
    if webhook is None:
        return [
            (used["webhook"], "webhook is routed to, but there is no [channels.webhook] (url or url_env)")
        ]
    where: Loc = ("channels", "webhook")
    found: list[tuple[Loc, str]] = []
    url_env, secret_env = webhook.get("url_env"), webhook.get("secret_env")
    url = os.environ.get(url_env) if isinstance(url_env, str) else webhook.get("url")
    if isinstance(url_env, str) and not url:
        found.append(((*where, "url_env"), f"names {url_env}, which is not set"))
    elif not url:
        found.append((where, "no url is given (url, or url_env naming the variable that holds it)"))
    elif not url.startswith(("https://", "http://")):
        found.append(((*where, "url_env" if url_env else "url"), "the URL must start with https://"))
    if isinstance(secret_env, str) and not os.environ.get(secret_env):
        found.append(((*where, "secret_env"), f"names {secret_env}, which is not set"))
    return found


def _built(read: SettingsText) -> list[tuple[int, str]]:
    """The channels built as delivery builds them: a refusal this check did not foresee is listed too."""
    try:
        channels_from(read.data or {}, read.path)
    except ConfigError as exc:
        shown = str(read.path)
        texts = [exc.message.removeprefix(f"{shown}: "), *exc.problems]
        named = re.search(r"\b((?:notifications|channels)(?:\.[A-Za-z0-9_-]+)+)", exc.message)
        loc: Loc = tuple(named.group(1).split(".")) if named else ()
        line = read.located.line_for(loc) if loc else 1
        return [(line, f"{shown}:{line}: {text}") for text in texts]
    return []
