"""Prefect's temporary server, started before Prefect is imported, for a command that runs flows locally.

With no Prefect server configured, Prefect starts a temporary one at the first flow run: a uvicorn
process serving its API on a free local port. Its client starts it from the module of the whole
server application, which the command would import (about five seconds of CPU) only to launch a
subprocess. This module launches the same process (the command Prefect runs, in Prefect's ephemeral
mode) at once, without importing Prefect, and names it in ``PREFECT_API_URL`` for this process, so the
command prepares its own work on one core while the server starts on the other, and Prefect then
talks to it as to any server. It stops when the command exits. If it does not come up, the
command stops with :class:`TemporaryServerError` (exit 1) before any flow runs.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing, suppress
from dataclasses import dataclass, field

from engine.errors import MentorflowError
from workflows.flows import environment

# seconds from launch, unless PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS says otherwise: more than
# Prefect's own 20 (which it counts after its import), as a busy machine can take that long
STARTUP_TIMEOUT = 60
_PORT_IN_USE = 3  # uvicorn's exit code when its port was taken meanwhile
_EPHEMERAL = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class TemporaryServerError(MentorflowError):
    """Prefect's temporary server did not come up: no flow can run. Exit 1."""

    exit_code = 1


@dataclass
class TemporaryServer:
    """A Prefect API server process on ``port`` of this machine, for this command only."""

    process: subprocess.Popen[bytes]
    port: int
    launched: float = field(default_factory=time.monotonic)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self) -> None:
        """Wait until the server answers; if it does not in time, stop it and raise TemporaryServerError."""
        timeout = int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS") or STARTUP_TIMEOUT)
        deadline = self.launched + timeout
        while time.monotonic() < deadline:
            if self.process.poll() == _PORT_IN_USE:
                self.port, self.process = _launch()
                os.environ["PREFECT_API_URL"] = self.api_url
            elif self.process.poll() is not None:
                break
            elif _healthy(self.api_url):
                return
            time.sleep(0.1)
        ended = self.process.poll()
        self.stop()
        why = f"it ended with exit code {ended}" if ended is not None else f"no answer in {timeout:g} s"
        raise TemporaryServerError(
            f"Prefect's temporary server did not start ({why}); set PREFECT_API_URL to a running Prefect "
            "server, or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS to wait longer"
        )

    def stop(self) -> None:
        """End the server process (killed if it does not end within five seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start() -> TemporaryServer | None:
    """Launch the server unless a Prefect server is configured or Prefect is already imported (then
    Prefect's settings are read already, and Prefect starts its own); ``None`` when not launched."""
    if "prefect" in sys.modules or environment.api_url() is not None:
        return None
    port, process = _launch()
    server = TemporaryServer(process, port)
    os.environ["PREFECT_API_URL"] = server.api_url
    atexit.register(server.stop)  # registered before Prefect's exit handlers, so it runs after them
    return server


def _launch() -> tuple[int, subprocess.Popen[bytes]]:
    """Prefect's temporary server on a free port: the command Prefect's ephemeral mode runs."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("prefect")  # found, not imported
    assert spec is not None and spec.origin is not None
    port = _free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parents[1])),
        *("--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "error", "--lifespan", "on"),
    ]
    return port, subprocess.Popen(command, env={**os.environ, **_EPHEMERAL})


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(api_url: str) -> bool:
    with suppress(OSError), urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
        return bool(response.status == 200)
    return False
