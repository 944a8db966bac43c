"""The ``tagpilot`` console script: ``tagpilot scan`` starts quickly, the rest goes to click.

A listing is usually a whole process of its own (CI, a shell); importing click and the command
group costs as much as the listing takes, so ``scan``'s usual arguments are handled by
``scan_argv`` without them.  Everything else, and any ``scan`` command line that module does
not take, runs through :func:`tagpilot.cli.main.main` as before.
"""

from __future__ import annotations

import atexit
import gc
import sys

__all__ = ["command_loaded", "main"]


def main() -> None:
    """Run the command line (console-script entry point)."""
    # At exit the interpreter runs full garbage collections over every object it tracks
    # (tens of thousands once the models are built: about a tenth of a one-shot run), only
    # to hand the memory back to the system anyway.  Frozen objects are skipped; the exit
    # handlers registered later still run first, and files are still flushed and closed.
    atexit.register(gc.freeze)
    # Start-up makes long-lived objects only (modules, models, their schemas): collecting
    # while it runs frees nothing.  ``command_loaded`` switches the collector back on.
    gc.disable()
    if sys.argv[1:2] == ["scan"]:
        from tagpilot.cli.scan_argv import run_quick  # noqa: PLC0415 - only for scan

        command_loaded()
        code = run_quick(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from tagpilot.cli.main import main as run_click  # noqa: PLC0415 - every other command

    run_click()


def command_loaded() -> None:
    """Collect garbage again once a command is imported, what start-up made frozen.

    Frozen objects are never examined again: the daemon's collections look at what it
    makes while it runs, not at the modules and models it started with.  Does nothing
    unless :func:`main` switched the collector off (a test or an embedding caller).
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
