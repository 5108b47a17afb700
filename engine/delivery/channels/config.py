"""The ``[notifications]`` and ``[channels]`` sections of the settings file, read into :class:`Channels`.

Every key is checked when the file is read, so a mistyped channel or a
negative port is reported with its file and field before anything is sent.
Secrets are never written in the file: the SMTP password and, if wanted, the
webhook URL come from environment variables the file names. ``[web]`` (read by
:func:`engine.settings.web_settings`) gives the address and keys of the personal
links that messages carry; without both, messages carry none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.delivery.channels import Channel, Channels, LinkSettings, ProgramInfo, RetryPolicy
from engine.delivery.channels.email import EmailChannel, SmtpSettings
from engine.delivery.channels.log import LogChannel
from engine.delivery.channels.webhook import WebhookChannel, WebhookSettings, signer
from engine.delivery.links import checked_base_url
from engine.errors import ConfigError
from engine.policy.durations import parse_duration
from engine.policy.resources import Resource
from engine.policy.surveys import Survey
from engine.policy.vocabulary import ACTIONS
from engine.settings import SETTINGS_FILE, WebSettings, check_link_keys, settings_document, web_settings

ChannelName = Literal["log", "email", "webhook"]
DEFAULT_LOG = "mentorflow-outbox.jsonl"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NotificationsSection(_Section):
    """``[notifications]``: what messages say, and how hard delivery tries."""

    program_name: str = "Mentoring program"
    coordinator_name: str = "Program coordinator"
    coordinator_email: str | None = None
    language: Literal["en", "nl"] = "en"
    timezone: str | None = None
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: str = "5 minutes"
    backoff_max: str = "12 hours"

    @field_validator("backoff", "backoff_max")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration = parse_duration(value)  # its ValueError says what to write
        if duration.months:
            raise ValueError(f'"{value}" is too long for a retry (write hours or days)')
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Amsterdam)") from None
        return value


class LogSection(_Section):
    """``[channels.log]``: the JSON-lines file, relative to the settings file; ``fsync``: each line forced
    to disk before it is recorded (off, a power cut may lose the last lines; a crash never does);
    ``bodies``: each line holds the whole message (names, addresses, texts, personal links), not only
    its ids. Writing personal data takes a TOML ``true``: a string or a number is refused."""

    path: str = DEFAULT_LOG
    fsync: bool = True
    bodies: bool = Field(default=False, strict=True)


class EmailSection(_Section):
    """``[channels.email]``: the SMTP server."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from")
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    allow_insecure_auth: bool = False  # log in without STARTTLS: only for a server on this machine


class WebhookSection(_Section):
    """``[channels.webhook]``: a Slack or Teams incoming-webhook URL, or the variable that holds it; and the
    variable that holds the Standard Webhooks signing secret (``whsec_...``), if requests are signed."""

    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    timeout: float = Field(default=10.0, gt=0)


class ChannelsSection(_Section):
    """``[channels]``: which channels exist and which action goes to which. No channel is implied: the
    log file, too, is used only when ``default`` or a route names it."""

    default: list[ChannelName] = []
    routes: dict[str, list[ChannelName]] = {}
    log: LogSection = LogSection()
    email: EmailSection | None = None
    webhook: WebhookSection | None = None

    @field_validator("routes")
    @classmethod
    def _known_actions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(ACTIONS))
        if unknown:
            raise ValueError(f"unknown action {', '.join(unknown)} (known: {', '.join(ACTIONS)})")
        return value


_S = TypeVar("_S", bound=_Section)


def configured_channels(
    settings: str | Path | None = None,
    *,
    timezone: str = "UTC",
    surveys: Mapping[str, Survey] | None = None,
    resources: Mapping[str, Sequence[str | Resource]] | None = None,
) -> Channels:
    """The channels of the settings file in force (or the one ``settings`` names); ``timezone`` is the
    program's unless the file names one, ``surveys`` the policy's (their questions go into the survey
    messages) and ``resources`` its phases' (:func:`engine.delivery.messages.resources_of`), its
    ``[web]`` what the messages' personal links are made with. Without a configured channel a
    :class:`ConfigError` (:func:`channels_from`)."""
    path, document = settings_document(settings)
    web = web_settings(settings)
    return channels_from(document, path, timezone=timezone, surveys=surveys, web=web, resources=resources)


def channels_from(
    document: Mapping[str, Any],
    path: Path | None,
    *,
    timezone: str = "UTC",
    surveys: Mapping[str, Survey] | None = None,
    web: WebSettings | None = None,
    resources: Mapping[str, Sequence[str | Resource]] | None = None,
) -> Channels:
    """Build :class:`Channels` from a parsed settings document (``path`` names it in errors).

    Every way of delivering builds its channels here, so all refuse alike: with no channel named
    (no settings file, no ``[channels]``, or neither ``default`` nor a route), or an action that no
    channel takes, a :class:`ConfigError` and nothing is sent; nothing falls back to the log file.
    ``web``: the ``[web]`` settings; with a base URL and keys the messages carry personal links
    (a short key or an address that is not one is refused here), without either they carry none.
    """
    shown = str(path) if path else "settings"
    notes = _section(NotificationsSection, document, "notifications", shown)
    chans = _section(ChannelsSection, document, "channels", shown)
    base = path.parent if path else Path.cwd()
    used = {*chans.default, *(name for names in chans.routes.values() for name in names)}
    by_name: dict[str, Channel] = {}
    if "log" in used:
        by_name["log"] = LogChannel(base / chans.log.path, fsync=chans.log.fsync, bodies=chans.log.bodies)
    if "email" in used or chans.email is not None:
        by_name["email"] = _email(chans.email, shown)
        if notes.coordinator_email is None:
            raise ConfigError(f"{shown}: notifications.coordinator_email is needed to send email")
    if "webhook" in used or chans.webhook is not None:
        by_name["webhook"] = _webhook(chans.webhook, shown)
    _check_routing(chans, document, path)
    program = ProgramInfo(
        name=notes.program_name,
        coordinator_name=notes.coordinator_name,
        coordinator_email=notes.coordinator_email,
        language=notes.language,
        timezone=notes.timezone or timezone,
        surveys=dict(surveys or {}),
        links=link_settings(web),
        resources=dict(resources or {}),
    )
    retry = RetryPolicy(
        max_attempts=notes.max_attempts,
        backoff=parse_duration(notes.backoff).approx(),
        backoff_max=parse_duration(notes.backoff_max).approx(),
    )
    return Channels(
        by_name, tuple(chans.default), {k: tuple(v) for k, v in chans.routes.items()}, program, retry
    )


def link_settings(web: WebSettings | None) -> LinkSettings | None:
    """What the messages' personal links are made with: ``None`` unless ``[web]`` names both an address
    and keys (links are optional until an organisation runs ``mentorflow web``); both checked."""
    if web is None or not web.base_url or not web.secret_keys:
        return None
    return LinkSettings(checked_base_url(web.base_url), check_link_keys(web.secret_keys, web.source))


def _check_routing(chans: ChannelsSection, document: Mapping[str, Any], path: Path | None) -> None:
    """Refuse settings under which a message would go nowhere: no channel at all, or actions without one."""
    if chans.default:
        return
    routed = {action for action, names in chans.routes.items() if names}
    if not routed:
        raise no_channel_configured(path, has_table="channels" in document)
    unrouted = [action for action in ACTIONS if action not in routed]
    if unrouted:
        raise ConfigError(
            f"{path or 'settings'}: channels.default is empty and no route names a channel for "
            f"{', '.join(unrouted)}: their messages would go nowhere; nothing is delivered "
            'and the due messages stay pending (name a channel in default, e.g. default = ["email"])'
        )


def no_channel_configured(path: Path | None, *, has_table: bool = False) -> ConfigError:
    """The refusal to deliver when the settings name no notification channel."""
    if has_table:
        where = f"{path or 'settings'}: [channels] names none (channels.default is empty, and no route)"
    elif path is None:
        where = f"there is no settings file ({Path.cwd() / SETTINGS_FILE}, or MENTORFLOW_CONFIG)"
    else:
        where = f"{path} has no [channels] table"
    return ConfigError(
        f"no notification channel is configured: {where}; nothing is "
        "delivered and the due messages stay pending. Name the channels in [channels] "
        '(see config/mentorflow.example.toml; default = ["log"] writes them to a file).'
    )


def _section(model: type[_S], document: Mapping[str, Any], name: str, shown: str) -> _S:
    raw = document.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown}: [{name}] must be a table")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(name, error) for error in exc.errors()]
        raise ConfigError(f"{shown}: [{name}] is not valid", problems) from None


def _problem(section: str, error: Any) -> str:
    where = ".".join([section, *(str(part) for part in error["loc"])])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown setting"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def _email(section: EmailSection | None, shown: str) -> EmailChannel:
    if section is None:
        raise ConfigError(f"{shown}: email is routed to, but there is no [channels.email] (host, from)")
    if section.username and not section.starttls and not section.allow_insecure_auth:
        raise ConfigError(
            f"{shown}: channels.email.username is set without starttls = true: the password would cross the "
            "network in cleartext (set starttls = true, or allow_insecure_auth = true for a server on this "
            "machine)"
        )
    password = None
    if section.password_env:
        password = os.environ.get(section.password_env)
        if password is None:
            raise ConfigError(
                f"{shown}: channels.email.password_env names {section.password_env}, which is not set"
            )
    settings = SmtpSettings(
        section.host,
        section.port,
        section.sender,
        section.starttls,
        section.username,
        password,
        section.timeout,
        section.allow_insecure_auth,
    )
    return EmailChannel(settings)


def _webhook(section: WebhookSection | None, shown: str) -> WebhookChannel:
    if section is None:
        raise ConfigError(f"{shown}: webhook is routed to, but there is no [channels.webhook] (url)")
    url = os.environ.get(section.url_env) if section.url_env else section.url
    if not url:
        named = f"the variable {section.url_env} is not set" if section.url_env else "no url is given"
        raise ConfigError(f"{shown}: channels.webhook: {named}")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"{shown}: channels.webhook.url must start with https://")
    secret = _webhook_secret(section, shown)
    return WebhookChannel(WebhookSettings(url, section.timeout, secret))


def _webhook_secret(section: WebhookSection, shown: str) -> str | None:
    """The signing secret from the variable ``secret_env`` names, checked; errors name the variable only."""
    if section.secret_env is None:
        return None
    where = f"{shown}: channels.webhook.secret_env names {section.secret_env}"
    secret = os.environ.get(section.secret_env)
    if not secret:
        raise ConfigError(f"{where}, which is not set")
    try:
        signer(secret)
    except ValueError as exc:
        raise ConfigError(f"{where}, which is not a usable secret: {exc}") from None
    return secret
