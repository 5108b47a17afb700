"""``mentorflow serve``: the scheduled flows as Prefect deployments, on the cron schedules of the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.flows.cadence import cadence
from workflows.flows.delivery import delivery
from workflows.flows.matching import matching
from workflows.flows.resources import Target

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

SCHEDULED: dict[str, Any] = {"cadence": cadence, "delivery": delivery, "matching": matching}


def deployments(target: Target, schedules: dict[str, str | None], timezone: str) -> list[RunnerDeployment]:
    """One deployment per scheduled flow, on its cron in ``timezone``, working on ``target``'s store."""
    from prefect.schedules import Cron

    from engine.errors import ConfigError

    parameters = {"database": absolute(target.database), "policy": target.policy}
    found = []
    for name, cron in schedules.items():
        if cron is None:
            continue
        try:
            found.append(
                SCHEDULED[name].to_deployment(
                    name=f"mentorflow-{name}", schedule=Cron(cron, timezone=timezone), parameters=parameters
                )
            )
        except ValueError as exc:
            reason = str(exc).strip().splitlines()[-1]
            raise ConfigError(
                f"schedules.{name}: {cron!r} is not a schedule Prefect accepts: {reason}"
            ) from None
    return found


def absolute(url: str) -> str:
    """A SQLite URL with its path made absolute: a served run may start in another directory."""
    from pathlib import Path

    from sqlalchemy import make_url

    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return parsed.set(database=str(Path(path).resolve())).render_as_string(hide_password=False)
