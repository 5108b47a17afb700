"""One module per group of operations; each operation is one transaction.

The only entry point for the CLI and the flows: they parse, call a service
and show its result.
"""
