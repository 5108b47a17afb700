"""A real ``mentorflow web`` in a test: waiting until the started process answers on its port."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


def wait_until_up(base: str, process: subprocess.Popen[str], log: Path) -> None:
    """Return once ``base``/healthz answers 200; fail with the server's log if it ends or stays silent
    for a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mentorflow web ended with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"mentorflow web did not answer within a minute:\n{log.read_text()}")
