"""``mentorflow web``: serve the participant pages behind personal links (uvicorn).

Refuses to start, with exit code 2 and what to set, without ``[web] base_url`` or a link key
(``secret_keys`` or ``MENTORFLOW_LINK_KEYS``), before it opens the port. uvicorn's access log is
off (an address holds a personal token); the pages log one line per request without it. One process
by default; ``--workers N`` starts N worker processes, each building the application with
:func:`workflows.web.app_from_environment` from the database and policy this command resolved (passed
on in ``MENTORFLOW_DATABASE_URL``, ``MENTORFLOW_POLICY`` and ``MENTORFLOW_CONFIG``). Sessions, form
tokens and the limit on failed sign-ins are in the store or signed with the link keys, so every
worker agrees on them; the limit on the participant pages is counted by each worker on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflows.cli.common import DatabaseOption, PolicyOption, load_policy, open_store, policy_file, settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.settings import Settings


def web(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes (uvicorn). Sign-ins, sessions and the login limit are shared in the "
            "store; the participant pages' rate limit ([web] participant_rate_limit) counts per worker.",
        ),
    ] = 1,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Serve the pages participants open through their personal links.

    Surveys, meetings, the kickoff, the training and a help page. The address and the link keys
    come from [web] in mentorflow.toml (base_url, secret_keys) or MENTORFLOW_LINK_KEYS, the
    coordinator's contact from [notifications]. Put it behind a reverse proxy that serves HTTPS at
    base_url.
    """
    import logging

    import uvicorn

    from workflows.web import create_app
    from workflows.web.config import checked_web_settings, load_config

    checked_web_settings()  # refused before anything else is opened
    chosen = settings(database, policy)
    config = load_config(load_policy(chosen), open_store(chosen))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = f" with {workers} workers" if workers > 1 else ""
    typer.echo(f"serving {config.base_url} on http://{host}:{port}{shown} (Ctrl+C stops)", err=True)
    served: Any = create_app(config)
    if workers > 1:
        served = _for_workers(config.store, chosen)
    uvicorn.run(
        served, host=host, port=port, workers=workers, factory=workers > 1, access_log=False,
        server_header=False, proxy_headers=False, log_level="info",  # the peer stays the peer (auth)
    )  # fmt: skip


def _for_workers(store: Engine, chosen: Settings) -> str:
    """What uvicorn serves with ``--workers N``: the factory each worker calls, told by the environment
    the database, policy and settings file this command resolved (``store`` is closed: each worker opens
    its own)."""
    import os

    from engine.settings import settings_path

    store.dispose()
    os.environ.update(MENTORFLOW_DATABASE_URL=chosen.database_url, MENTORFLOW_POLICY=str(policy_file(chosen)))
    found = settings_path()
    if found is not None:
        os.environ["MENTORFLOW_CONFIG"] = found
    return "workflows.web:app_from_environment"
