"""The console's policy page: the version this server runs, the one in force, and a new version's plan.

Any account reads ``/console/policy``; only a coordinator uploads a new version of the policy file. Its
plan (:func:`engine.services.plan.plan_change`) is a page that writes nothing: the differences, the
relationships it would strand, the next tick under each version, the messages only the new one would
write and the verdict. Applying it (:func:`engine.services.policy_apply.apply_policy`) re-reads the
YAML the plan page carried, with a phase of the new version chosen for each stranded one; the server
itself keeps the version it started with until it is restarted with the new file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from starlette.responses import HTMLResponse

from engine.errors import MentorflowError
from engine.policy.model import Policy, load_policy_text
from engine.services.plan import KINDS, Plan, plan_change
from engine.services.policy_apply import ApplyRequest, applications, apply_policy, version_in_force
from workflows.web.auth import Principal
from workflows.web.config import WebConfig
from workflows.web.console import message, page, refused

log = logging.getLogger("mentorflow.web")
MAX_POLICY_BYTES = 256 * 1024
"""The largest policy file the page reads (the shipped ones are a few kilobytes)."""
MAP_FIELD = "map:"
"""The prefix of the plan form's selects: ``map:paused`` names the new phase of the pairs in ``paused``."""


@dataclass(frozen=True)
class Upload:
    """A policy file sent from the console: its text and the name its problems are reported under."""

    text: str
    source: str


def overview(config: WebConfig, who: Principal) -> HTMLResponse:
    """The policy this server runs, the version in force, the applications so far, and for a coordinator
    the form to plan a new version."""
    policy = config.policy
    in_force = version_in_force(config.store, policy.policy)
    return page(
        config, who, "console_policy.html.j2", "Policy", policy=policy, in_force=in_force,
        current=in_force is None or in_force == policy.digest,
        applications=applications(config.store, policy.policy), max_kb=MAX_POLICY_BYTES // 1024,
    )  # fmt: skip


def upload_of(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]]) -> Upload | str:
    """The uploaded file (``policy_file``), else the pasted text (``policy_text``), or what is wrong."""
    name, data = files.get("policy_file", ("", b""))
    field = "policy_file"
    if not data:
        field, name = "policy_text", fields.get("policy_name", "")
        data = fields.get("policy_text", "").encode("utf-8")
    if not data.strip():
        return "policy_file: choose the new version's policy file (or paste its YAML in policy_text)"
    if len(data) > MAX_POLICY_BYTES:
        return f"{field}: the policy is larger than {MAX_POLICY_BYTES // 1024} KB"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"{field}: the policy is not UTF-8 text"
    source = PurePath(name.replace("\\", "/")).name[:100] or "pasted.yaml"
    return Upload(text.replace("\r\n", "\n"), source)


def plan(config: WebConfig, who: Principal, upload: Upload | str) -> HTMLResponse:
    """The plan of the uploaded version (nothing written), with the form that applies it."""
    if not who.account.may_act:
        return refused(config, who, "viewer")
    new = _loaded(config, who, upload)
    if isinstance(new, HTMLResponse):
        return new
    assert isinstance(upload, Upload)
    try:
        found = plan_change(config.store, config.policy, new, config.clock.now())
    except MentorflowError as exc:
        return message(config, who, "Not planned", exc.message, 422, exc.problems)
    return page(
        config, who, "console_policy_plan.html.j2", f"Plan of policy {new.policy} version {new.version}",
        plan=found, upload=upload, stranded=_by_phase(found), figures=_figures(found),
        extra=[_message(m.relationship, m.action, m.params) for m in found.extra_messages],
        map_field=MAP_FIELD,
    )  # fmt: skip


def apply(config: WebConfig, who: Principal, upload: Upload | str, form: Mapping[str, str]) -> HTMLResponse:
    """The uploaded version applied with the form's mapping and reason; the refusal as a page (nothing
    written), else what moved and that the servers must be restarted with the new file."""
    if not who.account.may_act:
        return refused(config, who, "viewer")
    new = _loaded(config, who, upload)
    if isinstance(new, HTMLResponse):
        return new
    mapping = {
        key.removeprefix(MAP_FIELD): value.strip()
        for key, value in form.items()
        if key.startswith(MAP_FIELD) and value.strip()
    }
    reason = form.get("reason", "").strip()[:1000] or None
    try:
        done = apply_policy(config.store, config.clock, ApplyRequest(new, who.account.actor, mapping, reason))
    except MentorflowError as exc:
        return message(config, who, "Not applied", exc.message, 422, exc.problems)
    log.info("policy %s version %s applied by %s", new.policy, new.digest[7:19], who.account.actor)
    return page(
        config, who, "console_policy_applied.html.j2", f"Policy {new.policy} version {new.version} applied",
        new=new, application=done.application, moved=sorted(done.moved.items()),
    )  # fmt: skip


def _loaded(config: WebConfig, who: Principal, upload: Upload | str) -> Policy | HTMLResponse:
    """The uploaded policy, or the page saying what is wrong with it (every problem, file:line)."""
    if isinstance(upload, str):
        status = 413 if "larger than" in upload else 422
        return message(config, who, "Not read", upload, status)
    try:
        new = load_policy_text(upload.text, upload.source)
    except MentorflowError as exc:
        return message(config, who, "Not valid", exc.message, 422, exc.problems)
    if new.policy != config.policy.policy:
        ours = config.policy.policy
        text = (
            f"{upload.source}: the file is policy {new.policy!r}, this program's is {ours!r}: "
            f"a new version keeps `policy: {ours}`"
        )
        return message(config, who, "Not valid", text, 422)
    return new


def _by_phase(found: Plan) -> list[tuple[str, list[Any]]]:
    """The stranded relationships by phase, in phase order."""
    phases: dict[str, list[Any]] = {}
    for item in found.stranded:
        phases.setdefault(item.phase, []).append(item)
    return sorted(phases.items())


def _figures(found: Plan) -> list[tuple[str, int, int]]:
    """The next tick's figures: (what, under the new version, under the current one)."""
    new, current = found.under_new, found.under_current
    rows = [
        (f"moved by {trigger}", len(new.moves.get(trigger, [])), len(current.moves.get(trigger, [])))
        for trigger in dict.fromkeys([*new.moves, *current.moves])
    ]
    if not rows:
        rows.append(("moved", 0, 0))
    for name, action in KINDS.items():
        rows.append((name.replace("_", " "), len(new.sent(action)), len(current.sent(action))))
    rows.append(("messages in all", len(new.messages), len(current.messages)))
    return rows


def _message(relationship: int | None, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    about = ", ".join(f"{k} {v}" for k, v in params.items() if k in ("survey", "phase", "kind"))
    return {"relationship": relationship, "action": action, "to": params.get("recipient", ""), "about": about}
