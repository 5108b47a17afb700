"""The Prefect flows that run the program, one per file; each task calls one engine service.

Importing this package does not import Prefect; importing a flow module does.
Call :func:`workflows.flows.environment.prepare` first to choose how loud
Prefect is (it reads its settings when it is first imported).
"""
