"""Alembic environment: runs migrations on the connection mentorflow hands it."""

from __future__ import annotations

from alembic import context

from engine.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` run by hand, e.g. to autogenerate a revision
    from sqlalchemy import create_engine

    with create_engine(config.get_main_option("sqlalchemy.url") or "").connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
