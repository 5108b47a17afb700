"""Persistence, and all the SQL: tables, the unit of work, one module of queries per aggregate, migrations.

``relationships`` (rows, and writing a change with its audit entries and outbox rows),
``participants``, ``audit`` (reading the chains, policy versions), ``records`` (meetings,
survey answers), ``proposals`` (match proposals); each function takes the Connection of
the caller's :class:`~engine.store.database.UnitOfWork` and never commits.
"""
