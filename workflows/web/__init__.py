"""``mentorflow web``: the pages participants open through their personal links (FastAPI, Jinja2).

Server-rendered HTML that works without JavaScript; every write goes through the engine's services,
the ones ``mentorflow record`` uses. :func:`create_app` builds the ASGI application from a
:class:`~workflows.web.config.WebConfig`; ``workflows/cli/web.py`` serves it with uvicorn.
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


__all__ = ["create_app"]
