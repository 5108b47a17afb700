"""The program's rules about relationships and participants.

The lifecycle, the cadence rules, the changes a move writes (and the outbox
rows, built in :mod:`engine.domain.effects`) and the audit chain. Pure: no
SQL, no I/O.
"""
