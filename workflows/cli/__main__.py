"""``python -m workflows.cli``: the ``mentorflow`` command."""

from workflows.cli import main

main()
