"""How the interpreter is exiting, for the run_end of a self-started run.

``install()`` chains ``sys.excepthook`` (an uncaught exception ends the run
FAILED, exit code 1; KeyboardInterrupt ends it KILLED, exit code null;
``sys.last_type`` backs it up when the program replaces the hook) and
wraps ``sys.exit`` (``sys.exit(n)`` with n != 0 in the main thread ends it
FAILED with exit code n; a str message means exit code 1).

Not detected: ``raise SystemExit(n)`` written out, ``exit(n)``/``quit(n)`` of
the interactive site module, and ``from sys import exit`` done before the run
started; those exits are recorded as FINISHED with exit code 0. A SystemExit
from ``sys.exit(n)`` that the program catches and survives still counts.
``os._exit`` and death by a signal run no atexit handler: such a run gets no
run_end at all.
"""

import functools
import sys
import threading

_installed = False
_uncaught = None  # exception type seen by sys.excepthook
_exit_code = None  # code passed to sys.exit in the main thread


def _code_of(status):
    if status is None:
        return 0
    if isinstance(status, bool):
        return int(status)
    if isinstance(status, int):
        return status
    return 1  # sys.exit("message") prints it and exits with 1


def install():
    """Install the hooks once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    previous_hook = sys.excepthook

    def excepthook(exc_type, exc, tb):
        global _uncaught
        if not _interactive():
            _uncaught = exc_type
        previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook

    original_exit = sys.exit

    @functools.wraps(original_exit)
    def exit(status=None):
        global _exit_code
        if threading.current_thread() is threading.main_thread():
            _exit_code = _code_of(status)
        original_exit(status)

    sys.exit = exit


def _interactive():
    # The REPL passes every failed statement to sys.excepthook.
    return hasattr(sys, "ps1") or bool(sys.flags.interactive)


def outcome():
    """(status, exit_code) for a run still open when the interpreter exits."""
    uncaught = _uncaught
    if uncaught is None and not _interactive():
        # Set by the interpreter before it calls sys.excepthook, so an
        # exception is seen even when the program replaced our hook.
        uncaught = getattr(sys, "last_type", None)
    if uncaught is not None:
        if issubclass(uncaught, KeyboardInterrupt):
            return "KILLED", None
        return "FAILED", 1
    if _exit_code:
        return "FAILED", _exit_code
    return "FINISHED", 0
