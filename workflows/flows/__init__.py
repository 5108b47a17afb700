"""The Prefect flows that run the program, one per file; each task calls one engine service.

Importing this package does not import Prefect; importing a flow module does.
Call :func:`workflows.flows.environment.prepare` first to choose how loud
Prefect is (it reads its settings when it is first imported).

Time, one convention. A command reads the moment it runs at once (``--now``, or
the clock) and holds it as an aware datetime in UTC. Flows and tasks take it as
their ``now`` parameter in ISO 8601 text, because Prefect passes parameters as
JSON (a deployment's run, a worker on another machine):
:func:`workflows.flows.resources.iso` writes it (UTC, with its offset) and
:func:`workflows.flows.resources.moment` reads it back where a service needs
the datetime (a text without an offset is read as UTC). A flow run without
``now`` runs at the clock's moment.

Settings, once. A command resolves its settings (options, environment,
``mentorflow.toml``) and passes the flows the store's URL and the policy's
absolute path (:func:`workflows.flows.resources.target`); a flow resolves the
settings itself only for what its parameters leave out, as a scheduled run does.
"""
