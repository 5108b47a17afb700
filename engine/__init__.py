"""mentorflow's engine: domain, policies, lifecycle and persistence.

Nothing here imports Prefect, Typer or ``workflows``; the arrows point
``workflows -> engine`` only.
"""
