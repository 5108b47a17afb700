"""Prefect's settings for a mentorflow command, set before Prefect is first imported.

Prefect reads its settings from the environment once, when it is imported,
and passes them on to the temporary server it starts when no
``PREFECT_API_URL`` is set. A variable the operator has set is never
overridden. This module does not import Prefect.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys

QUIET = {
    "PREFECT_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",  # the temporary server's shutdown is noisy below this
    "PREFECT_LOGGING_ROOT_LEVEL": "CRITICAL",  # and so are its database pool's loggers
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no telemetry from a temporary server
}

RECORDED = {
    # a run on a configured Prefect API: its log lines go there, none to the operator's terminal
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_ROOT_LEVEL": "CRITICAL",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}

DEMO = {
    **QUIET,
    # The demo's year is a thousand task runs, three state events each. The temporary server would
    # write each task run and each event to its SQLite database and match every event against
    # automations: that doubles the demo's time, and its API calls stall behind the backlog. The
    # demo's server keeps its flow run; the task runs happen just the same, unrecorded.
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


def prepare(settings: dict[str, str]) -> None:
    """Set Prefect's settings unless the operator set them; refuse once Prefect is imported."""
    if "prefect" in sys.modules:
        return  # too late to change what Prefect read; tests run under their own harness
    for name, value in settings.items():
        os.environ.setdefault(name, value)


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, if no server is configured (it takes about ten seconds).

    Prefect starts it at the first flow run anyway; a command that starts it in
    a thread first can do its own preparation meanwhile, on the other core.
    """
    try:
        if configured_api_url() is not None:
            return
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()  # the instance the client uses; starting it twice is a no-op
    except Exception:  # the first flow run starts it again, and reports why it cannot
        return


def api_url() -> str | None:
    """The Prefect API the settings name, read without importing Prefect (it takes two seconds):
    ``PREFECT_API_URL``, else the active profile's (``PREFECT_PROFILE``, ``profiles.toml`` in
    ``PREFECT_HOME``, ``~/.prefect`` by default). Once Prefect is imported, its own settings."""
    if "prefect" in sys.modules:
        return configured_api_url()
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    import tomllib
    from pathlib import Path

    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or document.get("active") or "ephemeral"
    profile = document.get("profiles", {}).get(active, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(url) if url else None


def configured_api_url() -> str | None:
    """The Prefect server the settings name (environment or profile), or ``None`` for none."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def silence_exit_noise() -> None:
    """Keep the temporary server's shutdown from printing after a command's output is complete.

    The server is stopped at interpreter exit; background threads still flushing
    events then log a CancelledError. An exit handler, registered after the
    server's (so it runs before it), closes those loggers first.
    """
    atexit.register(_close_loggers)


_NOISY = ("", "prefect", "prefect.server", "prefect.events", "prefect._internal", "uvicorn", "asyncio")


def _close_loggers() -> None:
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
