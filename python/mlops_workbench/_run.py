"""Runs and the process's current run: attaching, starting, ending.

A process has at most one current run. When a launcher started the process
(``MLOPS_RUN_ID`` is set) that run is attached to: the launcher writes its
run_start, capture and run_end, so this module never does. Inside a notebook
kernel VS Code started (``__vsc_ipynb_file__``) whose notebook the extension
tracks, the notebook's run is attached to the same way, and looked up again
every NOTEBOOK_RECHECK seconds because the extension moves the notebook to a
new run when the kernel session ends. Otherwise the process starts its own run
under the nearest ``.mlops`` and ends it when the program ends it or when the
interpreter exits.
"""

import atexit
import os
import threading
import time
import uuid

from . import _capture, _events, _exit, _locate, _names

SCHEMA_VERSION = 1

NOTEBOOK_RECHECK = 1.0
"""Seconds between two looks at a notebook's mapping file while attached to its run."""

_lock = threading.RLock()  # guards _current and _exiting
_current = None
_exiting = False
_atexit_registered = False
_warned_exiting = False


class Run(object):
    """A run this process logs into.

    ``id`` is the 32-hex run id, ``dir`` the run's folder
    (``.mlops/runs/<id>``), ``artifacts_dir`` its ``artifacts`` folder.
    ``attached`` is True when a launcher owns the run. Usable as a context
    manager: leaving the ``with`` block ends a self-started run (FINISHED, or
    FAILED when an exception escapes it, KILLED for KeyboardInterrupt) and
    only flushes an attached one.
    """

    def __init__(self, run_id, run_dir, mlops_dir, attached, name=None, experiment=None):
        self.id = run_id
        self.dir = run_dir
        self.mlops_dir = mlops_dir
        self.attached = attached
        self.name = name
        self.experiment = experiment
        self.artifacts_dir = os.path.join(run_dir, "artifacts")
        self._writer = _events.EventWriter(os.path.join(run_dir, "events.jsonl"))
        self._steps = {}  # metric key -> points this process logged in this run
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.notebook_mapping = None  # the mapping file when attached to a notebook's run
        self._checked_at = 0.0

    def __repr__(self):
        return "<Run %s %s>" % (self.id, self.dir)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._finish("FINISHED", None)
        elif issubclass(exc_type, KeyboardInterrupt):
            self._finish("KILLED", None)
        else:
            self._finish("FAILED", None)
        return False

    @property
    def ended(self):
        """True once run_end was written (or the attached run's log closed)."""
        return self._writer.closed

    def flush(self):
        """Write this run's pending events now."""
        return self._writer.flush()

    def _finish(self, status, exit_code):
        """End a self-started run with status and exit_code; only flush the launcher's."""
        if self.attached:
            self.flush()
        else:
            _end(self, status, exit_code)

    def log(self, events):
        """Queue events (dicts without ``time``), stamped with one time."""
        stamp = _events.now_ms()
        with self._lock:
            self._writer.append_many([_stamped(event, stamp) for event in events])

    def log_metrics(self, points, step):
        """Queue (key, value) points; step None means this key's point count."""
        stamp = _events.now_ms()
        with self._lock:
            events = []
            for key, value in points:
                count = self._steps.get(key, 0)
                self._steps[key] = count + 1
                events.append({
                    "type": "metric",
                    "time": stamp,
                    "key": key,
                    "value": value,
                    "step": count if step is None else step,
                })
            self._writer.append_many(events)


def _stamped(event, stamp):
    stamped = {"type": event["type"], "time": stamp}
    stamped.update((k, v) for k, v in event.items() if k != "type")
    return stamped


def current(auto_start=True):
    """The current run; attaches to the launcher's or starts one if need be."""
    global _current
    with _lock:
        if _current is not None and _current.notebook_mapping and not _exiting:
            _recheck_notebook_run()
        if _current is None and not _exiting:
            _current = _attach()
            if _current is None and auto_start:
                _current = _start_own(None, None)
        return _current


def log_with(action):
    """Call action(run) on the current run, holding the lock end_run() takes.

    After the exit handler ran, logging writes through at once, and logging
    with no run left is dropped with a warning (a new run is not started).
    """
    global _warned_exiting
    with _lock:
        run = current()
        if run is None:
            if not _warned_exiting:
                _warned_exiting = True
                _events.warn("logged after the run ended at interpreter exit; dropped")
            return None
        result = action(run)
        if _exiting:
            run.flush()
        return result


def active():
    """The current run without starting one (the launcher's run counts)."""
    return current(auto_start=False)


def start(name, experiment):
    """start_run(): the launcher's run, or a new self-started run."""
    global _current
    with _lock:
        if _exiting:
            raise RuntimeError("mlops_workbench: start_run() called while the interpreter exits")
        if _current is None:
            _current = _attach()
        if _current is not None:
            if _current.attached:
                return _current
            raise RuntimeError(
                "mlops_workbench: run %s is already active; call end_run() before start_run()"
                % _current.id
            )
        _current = _start_own(name, experiment)
        return _current


def end(status):
    """end_run(): end a self-started run; only flush the launcher's."""
    with _lock:
        run = _current
    if run is not None:
        run._finish(status, None)


def flush():
    """Write the current run's pending events now."""
    with _lock:
        run = _current
    if run is not None:
        run.flush()


def _attach():
    found = _locate.launcher_run()
    if found is not None:
        run_id, run_dir, mlops_dir = found
        mapping = None
    else:
        found = _locate.notebook_run()
        if found is None:
            return None
        run_id, run_dir, mlops_dir, mapping = found
    os.makedirs(run_dir, exist_ok=True)
    _register_atexit()
    run = Run(run_id, run_dir, mlops_dir, attached=True)
    run.notebook_mapping = mapping
    run._checked_at = time.monotonic()
    return run


def _recheck_notebook_run():
    """Follow the notebook to its current run (called holding _lock).

    When the mapping names another run (the user ended the notebook's run) the
    client moves to it; when the mapping is gone (the notebook was closed) it
    lets go, and the next log call starts the process's own run.
    """
    global _current
    run = _current
    now = time.monotonic()
    if now - run._checked_at < NOTEBOOK_RECHECK:
        return
    run._checked_at = now
    found = _locate.notebook_run()
    if found is not None and found[0] == run.id:
        return
    run.flush()
    run._writer.close()
    _current = None


def _start_own(name, experiment):
    mlops_dir = _locate.mlops_dir_for_new_run()
    run_id = uuid.uuid4().hex
    run_dir = os.path.join(mlops_dir, "runs", run_id)
    name = name or _names.next_run_name(os.path.join(mlops_dir, "runs"), _capture.default_run_name())
    os.makedirs(run_dir)
    experiment = experiment or os.environ.get("MLOPS_EXPERIMENT") or "Default"
    run = Run(run_id, run_dir, mlops_dir, attached=False, name=name, experiment=experiment)
    run.log([
        {
            "type": "run_start",
            "schema": SCHEMA_VERSION,
            "run_id": run_id,
            "name": name,
            "experiment": experiment,
            "source": "python",
        },
        {"type": "capture", "capture": _capture.capture()},
    ])
    run.flush()  # the run shows up at once
    _exit.install()
    _register_atexit()
    return run


def _end(run, status, exit_code):
    """Write run_end (only in the process that started the run) and close its log."""
    global _current
    with _lock:
        if _current is run:
            _current = None
    with run._lock:
        if run._writer.closed:
            return
        if run._pid == os.getpid():
            run._writer.append({
                "type": "run_end",
                "time": _events.now_ms(),
                "status": status,
                "exit_code": exit_code,
            })
    run._writer.close()


def _register_atexit():
    global _atexit_registered
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(_at_exit)


def _at_exit():
    """End or flush the current run; never raises (the user's exit must stand)."""
    global _exiting
    try:
        with _lock:
            _exiting = True
            run = _current
        if run is not None:
            run._finish(*_exit.outcome())
    except BaseException as error:
        _events.warn("could not finish the run's event log at exit: %r" % (error,))


def _reset():
    """Forget the current run without ending it (for tests)."""
    global _current, _exiting, _warned_exiting
    with _lock:
        run, _current, _exiting, _warned_exiting = _current, None, False, False
    if run is not None:
        run._writer.close()
