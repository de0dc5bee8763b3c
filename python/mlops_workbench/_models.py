"""log_model: registering a model goes through the engine (the ``mlops`` CLI).

Snapshots and the registry live in the Node engine; the launcher tells the
client where its CLI is (MLOPS_CLI, MLOPS_NODE). A script started another way
uses an ``mlops`` command on PATH when there is one.
"""

import json
import os
import shutil
import subprocess


def _cli():
    cli = os.environ.get("MLOPS_CLI")
    if cli and os.path.isfile(cli):
        return [os.environ.get("MLOPS_NODE") or "node", cli]
    found = shutil.which("mlops")
    if found:
        return [found]
    raise RuntimeError(
        "log_model needs the MLOps Workbench engine: run the script with tracking "
        "(the 'Run Python File with Tracking' command or `mlops run -- python3 ...`), "
        "or put the `mlops` command on PATH."
    )


def register(run, path, name):
    """Snapshot ``path`` and register it as the next version of model ``name``; returns the version."""
    env = dict(os.environ)
    env["ELECTRON_RUN_AS_NODE"] = "1"  # MLOPS_NODE may be VS Code's Electron binary
    env.pop("MLOPS_RUN_ID", None)  # the CLI links the run through --run, not as its own output
    workspace = os.path.dirname(run.mlops_dir)
    command = _cli() + [
        "models", "register", os.path.abspath(path), "--name", name,
        "--run", run.id, "--workspace", workspace, "--json",
    ]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if done.returncode != 0:
        # With --json the engine's error is its last line, {"error": "..."} (earlier ones are notices).
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else "exit code %d" % done.returncode
        try:
            reason = json.loads(reason)["error"]
        except (ValueError, TypeError, KeyError):
            reason = reason[len("mlops: "):] if reason.startswith("mlops: ") else reason
        raise RuntimeError("log_model(%r, %r) failed: %s" % (path, name, reason))
    return json.loads(done.stdout)
