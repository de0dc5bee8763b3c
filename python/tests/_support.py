"""Shared helpers of the client's tests: paths, temp workspaces, event checks.

Importing this module puts the repository's python/ folder on sys.path, so
``import mlops_workbench`` finds the client under test. Everything the tests
write goes into temporary folders.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(TESTS_DIR)
REPO_DIR = os.path.dirname(PYTHON_DIR)

sys.dont_write_bytecode = True
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import mlops_workbench  # noqa: E402
from mlops_workbench import _events, _run  # noqa: E402

ENV_VARS = ("MLOPS_RUN_ID", "MLOPS_RUN_DIR", "MLOPS_DIR", "MLOPS_EXPERIMENT")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _reject_constant(name):
    raise ValueError("bare %s in an event line" % name)


def check_event(event):
    """Raise AssertionError unless event matches docs/event-log.md."""
    assert isinstance(event, dict), "not a JSON object: %r" % (event,)
    kind = event.get("type")
    assert isinstance(kind, str), "no type: %r" % (event,)
    stamp = event.get("time")
    assert isinstance(stamp, (int, float)) and not isinstance(stamp, bool), "bad time: %r" % (event,)
    assert stamp > 1.5e12, "time is not in milliseconds: %r" % (event,)

    def key_ok():
        key = event.get("key")
        assert isinstance(key, str) and 0 < len(key) <= 250, "bad key: %r" % (event,)

    if kind == "run_start":
        assert event["schema"] == 1, event
        assert HEX32.match(event["run_id"]), event
        assert isinstance(event["name"], str) and isinstance(event["experiment"], str), event
        assert event["source"] in ("script", "command", "python", "notebook", "mlflow"), event
    elif kind == "capture":
        assert isinstance(event["capture"], dict), event
    elif kind in ("param", "tag"):
        key_ok()
        assert isinstance(event["value"], str), event
    elif kind == "metric":
        key_ok()
        value = event["value"]
        if isinstance(value, str):
            assert value in NON_FINITE, event
        else:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), event
            assert math.isfinite(value), event
        step = event["step"]
        assert isinstance(step, int) and not isinstance(step, bool), event
    elif kind == "artifact":
        path = event["path"]
        assert isinstance(path, str) and path and not path.startswith("/") and "\\" not in path, event
        assert ".." not in path.split("/"), event
        assert isinstance(event["size"], int) and event["size"] >= 0, event
        assert HEX64.match(event["sha256"]), event
    elif kind == "run_end":
        assert event["status"] in ("FINISHED", "FAILED", "KILLED"), event
        code = event["exit_code"]
        assert code is None or (isinstance(code, int) and not isinstance(code, bool)), event
    elif kind == "status":
        assert isinstance(event["status"], str), event
    elif kind == "rename":
        assert isinstance(event["name"], str), event


def read_events(path, check=True):
    """The events of an events.jsonl; every line must be complete, UTF-8 JSON."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), "%s ends with an incomplete line" % path
    events = []
    for number, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            event = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
        except ValueError as error:
            raise AssertionError("%s line %d is not valid: %s: %r" % (path, number, error, line[:200]))
        if check:
            check_event(event)
        events.append(event)
    return events


def of_type(events, kind):
    return [event for event in events if event["type"] == kind]


def run_dirs(mlops_dir):
    runs = os.path.join(mlops_dir, "runs")
    return sorted(os.path.join(runs, name) for name in os.listdir(runs)) if os.path.isdir(runs) else []


def child_env(**extra):
    """The environment of a child Python: no launcher variables, the client on PYTHONPATH."""
    env = dict((k, v) for k, v in os.environ.items() if k not in ENV_VARS)
    env["PYTHONPATH"] = PYTHON_DIR
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def write_script(directory, source, name="job.py"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(source)
    return path


def run_script(directory, source, name="job.py", env=None, timeout=60, args=()):
    """Write source to directory/name and run it there with this interpreter."""
    write_script(directory, source, name)
    return subprocess.run(
        [sys.executable, name] + list(args),
        cwd=directory,
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=timeout,
    )


class TempDirTest(unittest.TestCase):
    """A fresh temp folder, no launcher variables, and a client with no run."""

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="mlops-test-"))
        self._saved_env = dict((k, os.environ.pop(k)) for k in ENV_VARS if k in os.environ)
        self._saved_cwd = os.getcwd()
        self._saved_interval = _events.FLUSH_INTERVAL
        _run._reset()

    def tearDown(self):
        _run._reset()
        _events.FLUSH_INTERVAL = self._saved_interval
        os.chdir(self._saved_cwd)
        for name in ENV_VARS:
            os.environ.pop(name, None)
        os.environ.update(self._saved_env)
        shutil.rmtree(self.tmp, ignore_errors=True)


class AttachedTest(TempDirTest):
    """As if a launcher started this process: MLOPS_RUN_ID & co. point into tmp."""

    def setUp(self):
        super(AttachedTest, self).setUp()
        self.mlops_dir = os.path.join(self.tmp, ".mlops")
        self.run_id = uuid.uuid4().hex
        self.run_dir = os.path.join(self.mlops_dir, "runs", self.run_id)
        os.makedirs(self.run_dir)
        self.events_path = os.path.join(self.run_dir, "events.jsonl")
        self.launcher_env = {
            "MLOPS_RUN_ID": self.run_id,
            "MLOPS_RUN_DIR": self.run_dir,
            "MLOPS_DIR": self.mlops_dir,
        }
        os.environ.update(self.launcher_env)

    def events(self):
        """Flush the client and read the run's events."""
        mlops_workbench.flush()
        return read_events(self.events_path)
