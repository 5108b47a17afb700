"""``mentorflow serve``: the scheduled flows as Prefect deployments, on the cron schedules of the settings.

One ``serve`` serves one policy's program. Several programs in one store are served by one
``serve`` each (its own ``--policy``); their deployments are named after the policy, so that
one program's deployments never replace another's on the Prefect server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.flows import resources
from workflows.flows.cadence import cadence
from workflows.flows.delivery import delivery
from workflows.flows.matching import matching
from workflows.flows.resources import Target

DEFAULT_POLICY = "default"

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

SCHEDULED: dict[str, Any] = {"cadence": cadence, "delivery": delivery, "matching": matching}


def deployments(
    target: Target, schedules: dict[str, str | None], timezone: str, *, from_source: bool = False
) -> list[RunnerDeployment]:
    """One deployment per scheduled flow, on its cron in ``timezone``, working on ``target``'s store.

    ``from_source``: the deployment names the flow by its file in the installed package, so a
    worker of a work pool (another process, or another machine with the same installation) can
    load and run it; ``mentorflow serve`` runs the flows itself and needs no source.
    """
    from prefect.schedules import Cron

    from engine.errors import ConfigError

    parameters = {"database": absolute(target.database), "policy": target.policy}
    program = resources.policy(target.policy).policy
    found = []
    for name, cron in schedules.items():
        if cron is None:
            continue
        flow = _from_source(name) if from_source else SCHEDULED[name]
        try:
            found.append(
                flow.to_deployment(
                    name=deployment_name(name, program),
                    schedule=Cron(cron, timezone=timezone),
                    parameters=parameters,
                )
            )
        except ValueError as exc:
            reason = str(exc).strip().splitlines()[-1]
            raise ConfigError(
                f"schedules.{name}: {cron!r} is not a schedule Prefect accepts: {reason}"
            ) from None
    return found


def deployment_name(flow: str, program: str) -> str:
    """``mentorflow-cadence`` for the default policy (the name it always had, so an upgrade replaces
    its deployment), ``mentorflow-cadence-onboarding-buddy`` for another policy's program."""
    return f"mentorflow-{flow}" if program == DEFAULT_POLICY else f"mentorflow-{flow}-{program}"


def absolute(url: str) -> str:
    """A SQLite URL with its path made absolute: a served run may start in another directory."""
    from engine.services.setup import absolute_url

    return absolute_url(url)


def serve(found: list[RunnerDeployment]) -> None:
    """Run the deployments' schedules in this process until it is stopped (``mentorflow serve``)."""
    from prefect import serve as prefect_serve

    prefect_serve(*found)


def _from_source(name: str) -> Any:
    """The flow ``name`` as loaded from its source file in the installed ``workflows`` package."""
    from pathlib import Path

    from prefect import Flow

    package_root = Path(__file__).resolve().parents[2]
    return Flow.from_source(source=str(package_root), entrypoint=f"workflows/flows/{name}.py:{name}")


def register(found: list[RunnerDeployment], pool: str) -> None:
    """Create the deployments on the Prefect server for the process work pool ``pool`` (made if missing)."""
    from contextlib import suppress

    from prefect import deploy, get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    deploy(*found, work_pool_name=pool, build=False, push=False, print_next_steps_message=False)
