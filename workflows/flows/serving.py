"""``mentorflow serve``: the scheduled flows as Prefect deployments, on the cron schedules of the settings.

A deployment carries the store's URL without its password (a run finds the password by reference:
``MENTORFLOW_DATABASE_URL``, ``PGPASSWORD``, ``~/.pgpass`` or the Prefect Secret block that
``database.password_secret`` names), the policy's absolute path, and the absolute path of the
settings file ``serve`` read (``settings``), so every run, wherever a worker starts it, reads the
same channels. ``serve`` and ``serve --work-pool`` delete the other's deployments of the same name
before they create theirs, so a switch between them leaves no hybrid behind.

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
    from engine.settings import without_password

    parameters = {"database": without_password(absolute(target.database)), "policy": target.policy}
    if target.settings:
        parameters["settings"] = target.settings
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

    replace(found)
    prefect_serve(*found)


def replace(found: list[RunnerDeployment]) -> None:
    """Delete the deployments of the same names, whoever made them (``serve`` or ``serve --work-pool``):
    the new ones start clean, with nothing of the other kind's source, pull steps or work pool."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        for deployment in found:
            try:
                old = client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}")
            except ObjectNotFound:
                continue
            client.delete_deployment(old.id)


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
    # ignore_warnings: no "deploying to a process work pool" advice in an HR user's terminal
    deploy(
        *found,
        work_pool_name=pool,
        build=False,
        push=False,
        ignore_warnings=True,
        print_next_steps_message=False,
    )
