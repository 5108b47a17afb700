"""The work of the cadence and delivery flows, without Prefect: what their tasks and flows run.

The flows (:mod:`workflows.flows.cadence`, :mod:`workflows.flows.delivery`) run these functions as
Prefect tasks, one per batch. ``mentorflow tick`` with no Prefect API configured runs the very
same functions in turn, in its own process, without importing Prefect or starting a server.
This module does not import Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from workflows.flows import resources

if TYPE_CHECKING:
    from engine.delivery.channels import Channels
    from engine.services.delivery import DeliverySummary
    from engine.services.retention import PurgeSummary
    from engine.services.tick import TickBatches, TickSummary

TICK_BATCH = 500  # the engine's default (engine.services.tick.BATCH_SIZE), not imported at start-up
DELIVERY_BATCH = 200
MAX_BATCHES = 1000  # a backlog larger than this waits for the next run

DeliverBatch = Callable[[int, int], "DeliverySummary"]
"""Delivers one batch: (its number, from 1; the most rows it claims) -> what it did."""


def tick_part(database: str, policy: str, now: str, ids: list[int]) -> TickSummary:
    """Advance one batch of due relationships in one transaction."""
    from engine.services.tick import tick_batch

    lifecycle = resources.lifecycle(policy)
    return tick_batch(resources.store(database), lifecycle, resources.moment(now), ids)


def advance(
    database: str, policy: str, now: str, batch_size: int, tick_batches: TickBatches | None = None
) -> TickSummary:
    """The engine's tick (:func:`engine.services.tick.run_tick`), pass after pass until nothing more is
    due now; each pass's batches through ``tick_batches`` (default: :func:`tick_part` in turn)."""
    from engine.services.tick import run_tick

    store, lifecycle = resources.store(database), resources.lifecycle(policy)
    submit = tick_batches or (lambda parts: in_turn(database, policy, now, parts))
    return run_tick(store, lifecycle, resources.moment(now), batch_size=batch_size, tick_batches=submit)


def purge(database: str, policy: str, now: str) -> PurgeSummary:
    """Erase what the policy's ``retention:`` says has expired, pass after pass, each one transaction
    (:func:`engine.services.retention.purge_expired`); nothing without the block."""
    from engine.services.retention import purge_expired

    return purge_expired(resources.store(database), resources.policy(policy), resources.moment(now))


def plan_sessions(database: str, policy: str, now: str) -> int:
    """Plan the next session of each of the policy's ``sessions:`` series, and invite to it whoever is
    due an invitation and has none yet (:func:`engine.services.sessions.plan_sessions`); how many."""
    from engine.clock import SimulatedClock
    from engine.services.sessions import plan_sessions as plan

    clock = SimulatedClock(resources.moment(now))
    return plan(resources.store(database), resources.policy(policy), clock, actor="cadence").new_invitations


def sessions_due(database: str, policy: str, now: str, moved: Iterable[str]) -> bool:
    """Whether the cadence plans group sessions this run: the policy has a ``sessions:`` block and a
    series' next date is not planned yet, or pairs moved (by the triggers ``moved``) into its phases."""
    from engine.services.sessions import plan_due

    loaded = resources.policy(policy)
    return bool(loaded.sessions) and plan_due(resources.store(database), loaded, resources.moment(now), moved)


def has_retention(policy: str) -> bool:
    """Whether the policy has a ``retention:`` block, so the cadence purges."""
    return resources.policy(policy).retention is not None


def in_turn(database: str, policy: str, now: str, parts: list[list[int]]) -> TickSummary:
    """The batches ticked one after another in this process; their summaries added up."""
    from engine.services.tick import added

    return added(tick_part(database, policy, now, part) for part in parts)


def deliver_part(
    database: str,
    policy: str,
    now: str,
    limit: int,
    outbox_log: str | None = None,
    settings: str | None = None,
) -> DeliverySummary:
    """Send up to ``limit`` due messages of the policy's relationships through the channels of the
    settings file (``settings``, or the one in force), or only to ``outbox_log`` (the demo)."""
    from engine.services.delivery import deliver_due

    loaded = resources.policy(policy)
    chosen = channels(loaded.program.timezone, policy, outbox_log, settings)
    store, moment = resources.store(database), resources.moment(now)
    return deliver_due(store, chosen, moment, limit=limit, policy_name=loaded.policy)


def has_subscribers(settings: str | None) -> bool:
    """Whether the settings file names a webhook subscriber of the event feed."""
    from engine.services.subscribers import configured_subscribers

    return bool(configured_subscribers(settings))


def deliver_events(database: str, now: str, settings: str | None = None) -> list[str]:
    """Post the event feed's webhook subscribers (``[[events.subscribers]]`` of the settings file) their
    next events; a line per subscriber saying what was done (none when the settings name none)."""
    from engine.services.subscribers import configured_subscribers
    from engine.services.subscribers import deliver_events as deliver

    subscribers = configured_subscribers(settings)
    if not subscribers:
        return []
    return [done.said for done in deliver(resources.store(database), subscribers, resources.moment(now))]


def channels(timezone: str, policy: str, outbox_log: str | None, settings: str | None) -> Channels:
    """The channels of the settings file (``settings``, or the one in force), or only the log file
    ``outbox_log`` (the demo); without a configured channel a ConfigError
    (:func:`engine.delivery.channels.config.channels_from`), and the messages stay pending. Either way
    the messages carry personal links when the settings file's ``[web]`` has an address and keys."""
    from engine.delivery.channels.config import channels_from, configured_channels
    from engine.policy.resources import phase_resources
    from engine.settings import web_settings

    loaded = resources.policy(policy)
    surveys, listed = loaded.survey_definitions, phase_resources(loaded)
    if outbox_log is not None:
        # the demo's throwaway file: a crash loses no line without fsync (engine.delivery.channels.log);
        # its people are made up, so its lines keep the whole messages (bodies), links and all
        log = {"path": outbox_log, "fsync": False, "bodies": True}
        log_only = {"channels": {"default": ["log"], "log": log}}
        web = web_settings(settings)
        return channels_from(log_only, None, timezone=timezone, surveys=surveys, web=web, resources=listed)
    return configured_channels(settings, timezone=timezone, surveys=surveys, resources=listed)


def deliver_all(batch: DeliverBatch, batch_size: int = DELIVERY_BATCH) -> DeliverySummary:
    """Deliver batch after batch while full batches come back; their summaries added up."""
    from engine.services.delivery import DeliverySummary

    total = DeliverySummary()
    for number in range(1, MAX_BATCHES + 1):
        done = batch(number, batch_size)
        total = total.merged(done)
        if done.claimed < batch_size:
            break
    return total


def deliver_here(target: resources.Target, batch_size: int = DELIVERY_BATCH) -> DeliverySummary:
    """Delivery in this process, batch after batch, with the channels of ``target``'s settings."""

    def batch(_number: int, limit: int) -> DeliverySummary:
        return deliver_part(target.database, target.policy, target.now, limit, None, target.settings)

    return deliver_all(batch, batch_size)
