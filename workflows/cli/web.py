"""``mentorflow web``: serve the participant pages behind personal links (uvicorn, one process).

Refuses to start, with exit code 2 and what to set, without ``[web] base_url`` or a link key
(``secret_keys`` or ``MENTORFLOW_LINK_KEYS``), before it opens the port. uvicorn's access log is
off (an address holds a personal token); the pages log one line per request without it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workflows.cli.common import DatabaseOption, PolicyOption, load_policy, open_store, settings


def web(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
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
    typer.echo(f"serving {config.base_url} on http://{host}:{port} (Ctrl+C stops)", err=True)
    uvicorn.run(
        create_app(config), host=host, port=port, access_log=False, server_header=False,
        proxy_headers=False, log_level="info",  # the peer stays the peer (workflows.web.auth)
    )  # fmt: skip
