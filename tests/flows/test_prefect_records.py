"""What the Prefect API records of mentorflow's runs: names, log lines and artifacts of what they did,
a Failed delivery when messages are parked or no channel is configured, and never the database
password."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.policy.model import Policy, shipped_policies
from engine.services.advance import AdvanceRequest, advance
from engine.services.delivery import list_rows
from engine.services.participants import import_participants
from engine.store.database import initialise, open_engine
from engine.store.tables import participants
from tests.conftest import START

pytestmark = pytest.mark.flows
Cli = Callable[..., tuple[int, str, str]]
POLICY = str(shipped_policies()["default"])
LATER = START + timedelta(days=22)  # the unmatched mentees' escalations fall due
SECRET = "Wr0ng-s3cret-pw"


def _mentees(count: int) -> list[Participant]:
    return [
        Participant(external_id=f"m{i}", role="mentee", name=f"Mentee Nr{i}", email=f"m{i}@example.com")
        for i in range(count)
    ]


def _program(tmp_path: Path, policy: Policy, channels: str | None) -> tuple[str, str | None]:
    """A SQLite store with three mentees waiting since START, and a settings file with ``channels``."""
    url = f"sqlite:///{tmp_path / 'program.db'}"
    store = open_engine(url)
    initialise(store)
    import_participants(store, policy, SimulatedClock(START), _mentees(3), actor="test")
    store.dispose()
    if channels is None:
        return url, None
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(channels, encoding="utf-8")
    return url, str(settings)


def _eventually(read: Callable[[], list[Any]], done: Callable[[list[Any]], bool]) -> list[Any]:
    """What ``read`` returns once ``done`` holds (logs and task runs reach the server a moment later)."""
    deadline = time.monotonic() + 20
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _logs(flow_run_id: Any, expected: str) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        only = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        return _eventually(
            lambda: client.read_logs(log_filter=only), lambda logs: any(expected in x.message for x in logs)
        )


def _artifacts(flow_run_id: Any) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        only = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        return client.read_artifacts(artifact_filter=only)


def test_a_cadence_run_is_named_for_its_program_and_logs_and_shows_what_it_did(
    tmp_path: Path, policy: Policy
) -> None:
    from prefect import get_client

    from workflows.flows.cadence import cadence
    from workflows.flows.summaries import tick_line

    url, _ = _program(tmp_path, policy, None)

    state = cadence(database=url, policy=POLICY, now=LATER.isoformat(), return_state=True)

    summary = state.result()
    assert summary.escalations == 3
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    local = LATER.astimezone(ZoneInfo(policy.program.timezone))
    assert run.name == f"cadence default {local:%Y-%m-%d %H:%M}"
    logs = _logs(run_id, tick_line(summary))
    assert any(log.message == f"cadence: {tick_line(summary)}" and log.level == 20 for log in logs)
    [artifact] = _artifacts(run_id)
    assert artifact.key == "cadence-default" and artifact.type == "markdown"
    assert "## Moved, by trigger" in artifact.data and "| escalation | 3 |" in artifact.data
    assert (
        "Overdue now: 3" in artifact.data
        and "| relationship | mentee id | mentor id | overdue |" in artifact.data
    )
    assert "Mentee Nr" not in artifact.data


def test_a_cadence_runs_artifact_and_logs_name_pairs_and_participants_by_their_ids_only(
    tmp_path: Path, policy: Policy, lifecycle: Lifecycle
) -> None:
    from workflows.flows.cadence import cadence

    url = f"sqlite:///{tmp_path / 'program.db'}"
    store = open_engine(url)
    initialise(store)
    clock = SimulatedClock(START)
    mentor = Participant(external_id="t0", role="mentor", name="Mentor Nr0", email="t0@example.com")
    rels = import_participants(
        store, policy, clock, [*_mentees(2), mentor], actor="test"
    ).relationships_opened
    advance(store, lifecycle, clock, AdvanceRequest(rels[0], "match", "coordinator", mentor="t0"))
    with store.connect() as conn:
        people = {row.name: (row.id, row.email) for row in conn.execute(select(participants))}
    store.dispose()

    state = cadence(database=url, policy=POLICY, now=LATER.isoformat(), return_state=True)

    run_id = state.state_details.flow_run_id
    [artifact] = _artifacts(run_id)
    shown = artifact.data + (artifact.description or "")
    assert "Overdue now: 2" in shown  # the matched pair (its mentor untrained) and the mentee waiting
    matched = f"| {rels[0]} | {people['Mentee Nr0'][0]} | {people['Mentor Nr0'][0]} | matched: "
    waiting = f"| {rels[1]} | {people['Mentee Nr1'][0]} | - | intake: "
    assert matched in shown and waiting in shown
    logged = " ".join(log.message for log in _logs(run_id, "cadence:"))
    for name, (_, email) in people.items():
        assert name not in shown + logged and email not in shown + logged
    assert "@" not in shown + logged


def test_a_delivery_that_parks_a_message_fails_with_a_table_of_them(tmp_path: Path, policy: Policy) -> None:
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery
    from workflows.flows.observe import Parked

    unreachable = (
        '[notifications]\nmax_attempts = 1\n[channels]\ndefault = ["webhook"]\n'
        '[channels.webhook]\nurl = "http://127.0.0.1:9/hook"\ntimeout = 2\n'
    )
    url, settings = _program(tmp_path, policy, unreachable)
    cadence(database=url, policy=POLICY, now=LATER.isoformat(), settings=settings)

    state = delivery(database=url, policy=POLICY, now=LATER.isoformat(), settings=settings, return_state=True)

    assert state.is_failed() and "parked" in (state.message or "")
    parked = state.result(raise_on_failure=False)
    assert isinstance(parked, Parked) and parked.summary.parked == parked.summary.claimed > 0
    run_id = state.state_details.flow_run_id
    logs = _logs(run_id, "webhook to")
    assert any(log.level == 30 and "webhook to" in log.message for log in logs)
    by_key = {artifact.key: artifact for artifact in _artifacts(run_id)}
    assert set(by_key) == {"delivery-default", "parked-default"}
    assert by_key["parked-default"].type == "table" and "escalate" in str(by_key["parked-default"].data)


def test_without_a_channel_delivery_refuses_and_the_messages_stay_pending(
    tmp_path: Path, policy: Policy, cli: Cli
) -> None:
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery

    url, _ = _program(tmp_path, policy, None)
    cadence(database=url, policy=POLICY, now=LATER.isoformat())
    settings = tmp_path / "elsewhere.toml"
    for text, why in (
        ('[program]\npolicy = "default"\n', "has no [channels] table"),
        ('[channels.log]\npath = "out.jsonl"\n', "[channels] names none"),  # the log is not implied
    ):
        settings.write_text(text, encoding="utf-8")
        state = delivery(
            database=url, policy=POLICY, now=LATER.isoformat(), settings=str(settings), return_state=True
        )
        assert state.is_failed()
        refusal = str(state.result(raise_on_failure=False))
        assert "no notification channel is configured" in refusal and why in refusal
    assert not (tmp_path / "out.jsonl").exists()

    code, out, err = cli("tick", "--database", url, "--now", LATER.strftime("%Y-%m-%dT%H:%M"))
    assert code == 2
    assert "0 due relationship(s) examined" in out and "delivery:" not in out
    assert "no notification channel is configured" in err and "stay pending" in err
    store = open_engine(url)
    assert {row["status"] for row in list_rows(store)} == {"pending"}
    store.dispose()


def test_a_delivery_to_the_log_file_says_it_wrote_the_messages_there(tmp_path: Path, policy: Policy) -> None:
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery

    log = tmp_path / "outbox.jsonl"
    url, settings = _program(
        tmp_path, policy, f'[channels]\ndefault = ["log"]\n[channels.log]\npath = "{log}"\n'
    )
    cadence(database=url, policy=POLICY, now=LATER.isoformat(), settings=settings)

    state = delivery(database=url, policy=POLICY, now=LATER.isoformat(), settings=settings, return_state=True)

    summary = state.result()
    assert summary.sent_by == ((f"written to {log}", 3),) and len(log.read_text().splitlines()) == 3
    [artifact] = _artifacts(state.state_details.flow_run_id)
    assert f"3 delivered (3 written to {log})" in artifact.data and "sent" not in artifact.data


def _everything(client: Any) -> str:
    """Every record the Prefect API holds of deployments, flow runs, task runs, logs and artifacts."""
    records = [
        *client.read_deployments(),
        *client.read_flow_runs(),
        *client.read_task_runs(),
        *client.read_logs(),
        *client.read_artifacts(),
    ]
    return "\n".join(record.model_dump_json() for record in records)


def test_the_database_password_is_in_no_record_of_the_prefect_api(store: Engine, cli: Cli) -> None:
    """The tick's recorded runs and the registered deployments; tests/production runs one through a real
    worker."""
    from prefect import get_client

    from engine.clock import SystemClock
    from workflows.flows import resources, serving

    if store.dialect.name != "postgresql":
        pytest.skip("a password belongs to a server database")
    url = store.url.set(password=SECRET).render_as_string(hide_password=False)  # the test server trusts
    policy = resources.policy(POLICY)
    import_participants(store, policy, SimulatedClock(START), _mentees(3), actor="test")
    Path("mentorflow.toml").write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")

    code, out, err = cli("tick", "--database", url, "--now", LATER.strftime("%Y-%m-%dT%H:%M"))
    assert code == 0, err
    assert "3 escalation(s)" in out and "3 delivered" in out

    target = resources.target(url, POLICY, SystemClock().now(), str(Path("mentorflow.toml").resolve()))
    crons = {"cadence": "0 7 * * *", "delivery": "*/5 * * * *"}
    found = serving.deployments(target, crons, "Europe/Amsterdam", from_source=True)
    serving.register(found, "mentorflow-secret-pool")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("delivery/mentorflow-delivery")
        assert deployment.parameters["settings"] == target.settings
        assert deployment.parameters["database"] == url.replace(f":{SECRET}", "")
        client.create_flow_run_from_deployment(deployment.id)  # its parameters, as a worker would get them
        _eventually(lambda: client.read_logs(), lambda logs: any("delivery: 3" in x.message for x in logs))
        recorded = _everything(client)
    assert "3 outbox row(s) due" in recorded  # the records were read
    assert SECRET not in recorded
    resources.forget_stores()


def test_a_delivery_run_also_posts_the_events_to_their_subscriber(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks import Webhook

    from workflows.flows.delivery import delivery

    secret = "whsec_" + base64.b64encode(b"a-flow-test-secret-of-32-bytes!!").decode()
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(Webhook(secret).verify(body, dict(self.headers)))  # raises on a bad signature
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("FLOW_HOOK_SECRET", secret)
    hook = f"http://127.0.0.1:{server.server_address[1]}/in"
    log = tmp_path / "outbox.jsonl"
    url, settings = _program(
        tmp_path, policy,
        f'[channels]\ndefault = ["log"]\n[channels.log]\npath = "{log}"\n'
        f'[[events.subscribers]]\nname = "dw"\nurl = "{hook}"\nsecret_env = "FLOW_HOOK_SECRET"\n',
    )  # fmt: skip
    try:
        state = delivery(
            database=url, policy=POLICY, now=LATER.isoformat(), settings=settings, return_state=True
        )
    finally:
        server.shutdown()
        server.server_close()
    assert state.is_completed()
    assert [e["sequence"] for e in received] == ["1", "2", "3", "4", "5", "6"]  # 3 mentees, their 3 pairs
    assert json.dumps(received).count("mentorflow.participant.created") == 3
