"""What the participant pages run with: the store, the policy, the link keys and address, the program.

:func:`load_config` reads it all as the commands do (the database and policy of
the settings, ``[web]`` for ``base_url`` and ``secret_keys`` or
``MENTORFLOW_LINK_KEYS``, ``[notifications]`` for the program's name, its
coordinator and its language) and refuses, with a :class:`ConfigError` that says
what to set, when links could not be checked: no key, a short key, no address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.clock import Clock, SystemClock

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.policy.model import Policy


@dataclass(frozen=True)
class Program:
    """What the pages say about the program: its name, its coordinator (the help page gives their
    address), the language for someone the page does not know yet, and its time zone (dates)."""

    name: str = "Mentoring program"
    coordinator_name: str = "Program coordinator"
    coordinator_email: str | None = None
    language: str = "en"
    timezone: str = "UTC"


@dataclass(frozen=True)
class WebConfig:
    """Everything :func:`workflows.web.create_app` needs; ``keys`` newest first, already checked."""

    store: Engine
    policy: Policy
    keys: tuple[str, ...]
    base_url: str
    program: Program = field(default_factory=Program)
    clock: Clock = field(default_factory=SystemClock)
    trusted_header: str | None = None
    """``[web] trusted_header``: the header an SSO proxy names the account in; off when ``None``."""
    trusted_proxies: tuple[str, ...] = ()
    """``[web] trusted_proxies``: the only client addresses whose ``trusted_header`` is believed."""
    participant_rate_limit: int = 0
    """``[web] participant_rate_limit``: requests per minute per client to ``/l/...``, in each worker;
    0, the default of a configuration built in code (the tests'), for none. :func:`load_config` reads the
    settings' (60 unless set)."""

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of ``base_url``: the only origin a form may be posted from."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def prefix(self) -> str:
        """The path under which the site lives (``/mentoring`` of ``https://host/mentoring``), or ``""``."""
        return urlsplit(self.base_url).path.rstrip("/")


def checked_web_settings(config: str | None = None) -> tuple[tuple[str, ...], str]:
    """The link keys and the address of ``[web]`` (or ``MENTORFLOW_LINK_KEYS``), or a ConfigError."""
    from engine.delivery.links import checked_base_url
    from engine.settings import check_link_keys, web_settings

    web = web_settings(config)
    return check_link_keys(web.secret_keys, web.source), checked_base_url(web.base_url)


def program_of(timezone: str, config: str | None = None) -> Program:
    """``[notifications]`` of the settings file as the pages need it (``timezone``: the policy's)."""
    from pydantic import ValidationError

    from engine.delivery.channels.config import NotificationsSection
    from engine.errors import ConfigError
    from engine.settings import settings_document

    path, document = settings_document(config)
    raw = document.get("notifications", {})
    try:
        notes = NotificationsSection.model_validate(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise ConfigError(
            f"{path or 'settings'}: [notifications] is not valid: {exc.errors()[0]['msg']}"
        ) from None
    return Program(
        name=notes.program_name,
        coordinator_name=notes.coordinator_name,
        coordinator_email=notes.coordinator_email,
        language=notes.language,
        timezone=notes.timezone or timezone,
    )


def load_config(policy: Policy, store: Engine) -> WebConfig:
    """The pages' configuration: ``[web]`` and ``[notifications]`` of the settings file, with the policy
    and the store the command's settings name; refused if the policy is not the version in force there
    (unless pinned)."""
    from engine.services.policy_apply import check_in_force, pinned
    from engine.settings import web_settings

    keys, base_url = checked_web_settings()
    check_in_force(store, policy, pinned=pinned())
    web = web_settings()
    return WebConfig(
        store, policy, keys, base_url, program_of(policy.program.timezone),
        trusted_header=web.trusted_header, trusted_proxies=web.trusted_proxies,
        participant_rate_limit=web.participant_rate_limit,
    )  # fmt: skip


def superseded(config: WebConfig) -> str | None:
    """Why this server may change nothing: the policy it runs is no longer the version in force (another
    was applied since it started); ``None`` when it is, or when any version may act (pinned)."""
    from engine.services.policy_apply import pinned, version_in_force

    if pinned():
        return None
    policy = config.policy
    in_force = version_in_force(config.store, policy.policy)
    if in_force is None or in_force == policy.digest:
        return None
    return (
        f"This server runs version {policy.version} ({policy.digest[7:19]}) of policy {policy.policy!r}, "
        f"but version {in_force[7:19]} has been applied since: nothing was changed. Restart "
        "`mentorflow web` with the new policy file to act under it."
    )
