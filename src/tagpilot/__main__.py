"""Entry point for ``python -m tagpilot``."""

from tagpilot.cli.entry import main

main()
