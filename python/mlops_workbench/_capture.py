"""The minimal environment capture a self-started run records.

The launcher records more (git, packages, GPUs); a script that starts its own
run only knows what is cheap and safe to find in-process.
"""

import getpass
import os
import platform
import socket
import sys


def capture():
    """The ``capture`` object of docs/event-log.md: argv, cwd, pid, python, host, user."""
    info = {
        "argv": [sys.executable or "python"] + [str(arg) for arg in sys.argv],
        "cwd": os.getcwd(),
        # Lets the extension tell a run whose process died without a run_end.
        "pid": os.getpid(),
        "python": {"path": sys.executable or "", "version": platform.python_version()},
    }
    try:
        info["host"] = socket.gethostname()
    except Exception:
        pass
    try:
        info["user"] = getpass.getuser()
    except Exception:  # no login name in a container without passwd entry
        pass
    return info


def default_run_name():
    """The running script's file name without .py, or "python" when there is none."""
    script = sys.argv[0] if sys.argv else ""
    if not script or script in ("-c", "-"):
        return "python"
    name = os.path.basename(script.rstrip("/\\"))
    if name.endswith(".py"):
        name = name[:-3]
    return name or "python"
