"""The coordinator pages: today, matching, a relationship's file, the participant search.

Everything shown is read through the engine's services (:mod:`engine.services.console`, ``status``);
every action is the command's own service call (``match approve``, ``match reject``, ``match replace``,
``link revoke``) with the actor ``coordinator:<account name>``, so the audit history, the proposal rows
and the revocation rows name who decided. Only a ``coordinator`` acts: a ``viewer`` reads and is refused
(403) with nothing written, as is a form without the session's form token. A refusal of the service is
a page with its status and reason. A training a mentor reported (``links.confirm_training``) is
confirmed or declined on the Today page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.lifecycle import Lifecycle
from engine.errors import ConflictError, InputError, MentorflowError, NotFoundError, RefusedError
from engine.services import console as reads
from engine.services.links import revoke_links
from engine.services.matching import approve, reject
from engine.services.queries import status
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.services.training import decide_training_report, pending_training_reports
from workflows.web.auth import Principal, frame
from workflows.web.config import WebConfig
from workflows.web.render import html

log = logging.getLogger("mentorflow.web")


def page(config: WebConfig, who: Principal, template: str, title: str, **context: Any) -> HTMLResponse:
    return html(template, 200, {**frame(config, title, who), **context})


def message(
    config: WebConfig,
    who: Principal | None,
    title: str,
    text: str,
    status_code: int,
    problems: Sequence[str] = (),
) -> HTMLResponse:
    """A plain console page with ``status_code`` that says ``text``, and lists ``problems`` if any."""
    context = {**frame(config, title, who), "message": text, "problems": list(problems)}
    return html("console_message.html.j2", status_code, context)


def refused(config: WebConfig, who: Principal, why: str) -> HTMLResponse:
    """A viewer, or a form without its token: 403, nothing written."""
    texts = {
        "viewer": "Your account can read these pages but not act: ask a coordinator.",
        "form": "This form was not sent from its page, or the session changed. Open the page again.",
    }
    return message(config, who, "Not allowed", texts[why], 403)


def today(config: WebConfig, who: Principal) -> HTMLResponse:
    """What is overdue now (with the pair's names) and how many proposals wait for a decision."""
    now = config.clock.now()
    report = status(config.store, config.policy, now)
    names = reads.pair_names(config.store, [rid for rid, _ in report.overdue])  # the overdue pairs only
    overdue = [
        {"id": rid, "mentee": names.get(rid, {}).get("mentee", ""),
         "mentor": names.get(rid, {}).get("mentor"), "what": item.describe(), "due": item.due,
         "phase": item.phase}
        for rid, item in sorted(report.overdue, key=lambda pair: pair[1].due)
    ]  # fmt: skip
    pending = reads.pending_proposals(config.store, config.policy.policy)
    return page(
        config, who, "today.html.j2", "Today", overdue=overdue, pending=len(pending),
        phases=sorted(report.phases.items()), now=now, trainings=pending_training_reports(config.store),
    )  # fmt: skip


def matching(config: WebConfig, who: Principal) -> HTMLResponse:
    """The pending proposals, each with its score by criterion and its explanation."""
    proposals = reads.pending_proposals(config.store, config.policy.policy)
    return page(config, who, "matching.html.j2", "Matching", proposals=proposals)


def relationship(config: WebConfig, who: Principal, rel_id: int) -> HTMLResponse:
    """A relationship's history (actors, reasons), its chain's check, its messages, and the links they
    carried with the state of each (for the policy's terminal phases and link lifetime)."""
    try:
        file = reads.relationship_file(
            config.store, rel_id, config.clock.now(),
            terminal=config.policy.terminal_phases, lifetime=config.policy.link_lifetime,
        )  # fmt: skip
    except NotFoundError:
        return message(config, who, "Not found", f"There is no relationship {rel_id}.", 404)
    return page(config, who, "relationship.html.j2", f"Relationship {rel_id}", file=file)


def search(config: WebConfig, who: Principal, query: str) -> HTMLResponse:
    found = reads.search(config.store, query[:200]) if query.strip() else []
    return page(config, who, "search.html.j2", "Find a participant", query=query[:200], people=found)


def act(config: WebConfig, who: Principal, action: str, rel_id: int, form: Mapping[str, str]) -> Response:
    """``approve``, ``reject`` or ``replace`` for relationship ``rel_id``, through the service; the
    service's refusal as a page with its status, nothing written."""
    if not who.account.may_act:
        log.info("a %s by a viewer was refused", action)
        return refused(config, who, "viewer")
    actor = who.account.actor
    try:
        done = _ACTIONS[action](config, rel_id, actor, form)
    except ConflictError:
        return message(config, who, "Not done", "Someone changed this pair meanwhile; try again.", 409)
    except NotFoundError as exc:
        return message(config, who, "Not done", exc.message, 404)
    except RefusedError as exc:
        return message(config, who, "Not done", exc.message, 409)
    except InputError as exc:
        return message(config, who, "Not done", exc.message, 422)
    except MentorflowError as exc:
        return message(config, who, "Not done", exc.message, 409)
    log.info("relationship %s: %s by %s", rel_id, action, actor)
    return RedirectResponse(f"{config.prefix}{done}", status_code=303)


def _approve(config: WebConfig, rel_id: int, actor: str, form: Mapping[str, str]) -> str:
    decided = approve(config.store, Lifecycle(config.policy), config.clock, [rel_id], actor=actor)
    if rel_id in decided.refused:
        raise RefusedError(decided.refused[rel_id])
    return "/matching"


def _reject(config: WebConfig, rel_id: int, actor: str, form: Mapping[str, str]) -> str:
    reject(config.store, config.clock, [rel_id], form.get("reason", ""), actor=actor)
    return "/matching"


def _replace(config: WebConfig, rel_id: int, actor: str, form: Mapping[str, str]) -> str:
    mentor = form.get("mentor", "").strip()
    if not mentor:
        raise InputError("name the new mentor (id, external id or email)")
    request = ReplaceRequest(rel_id, mentor, form.get("reason", ""), actor)
    replace_mentor(config.store, config.policy, config.clock, request)
    return f"/relationships/{rel_id}"


def _revoke(config: WebConfig, rel_id: int, actor: str, form: Mapping[str, str]) -> str:
    """Every link of relationship ``rel_id`` issued until now withdrawn (``link revoke``), with the form's
    reason; the page then shows them revoked."""
    revoke_links(config.store, config.clock.now(), actor, relationship=rel_id, reason=form.get("reason"))
    return f"/relationships/{rel_id}"


def _confirm_training(config: WebConfig, report_id: int, actor: str, form: Mapping[str, str]) -> str:
    """Training report ``report_id`` confirmed: the training recorded, the coordinator its actor."""
    decide_training_report(config.store, config.clock, report_id, True, actor)
    return "/"


def _decline_training(config: WebConfig, report_id: int, actor: str, form: Mapping[str, str]) -> str:
    """Training report ``report_id`` declined with the form's reason (the service refuses none)."""
    decide_training_report(config.store, config.clock, report_id, False, actor, form.get("reason", ""))
    return "/"


_ACTIONS = {
    "approve": _approve, "reject": _reject, "replace": _replace, "revoke": _revoke,
    "training_confirm": _confirm_training, "training_decline": _decline_training,
}  # fmt: skip
