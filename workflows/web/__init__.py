"""``mentorflow web``: the pages participants open through their personal links (FastAPI, Jinja2).

Server-rendered HTML that works without JavaScript; every write goes through the engine's services,
the ones ``mentorflow record`` uses. :func:`create_app` builds the ASGI application from a
:class:`~workflows.web.config.WebConfig`; ``workflows/cli/web.py`` serves it with uvicorn, in one
process, or with ``--workers N`` by the factory :func:`app_from_environment`, which each worker process
imports by name and calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from workflows.web.config import WebConfig


def create_app(config: WebConfig) -> FastAPI:
    """The participant pages for ``config`` (see :mod:`workflows.web.app`)."""
    from workflows.web.app import create_app as build

    return build(config)


def app_from_environment() -> FastAPI:
    """The participant pages as the settings in force name them (uvicorn's factory, one per worker).

    The database and policy come from ``MENTORFLOW_DATABASE_URL`` and ``MENTORFLOW_POLICY``, else the
    settings file (``MENTORFLOW_CONFIG`` or ``mentorflow.toml`` here), as for every command; ``mentorflow
    web --workers N`` sets the first two to what it resolved from its own options before it starts the
    workers. Logging is set up as the command sets it up, since a worker starts afresh.
    """
    import logging

    from engine.policy.model import resolve_policy_path
    from engine.services.outlines import cached_policy
    from engine.services.setup import open_store
    from engine.settings import resolve
    from workflows.web.config import checked_web_settings, load_config

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    checked_web_settings()
    chosen = resolve()
    policy = cached_policy(resolve_policy_path(chosen.policy))
    return create_app(load_config(policy, open_store(chosen.database_url)))


__all__ = ["app_from_environment", "create_app"]
