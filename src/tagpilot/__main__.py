"""Entry point for ``python -m tagpilot``."""

from tagpilot.cli.main import main

main()
