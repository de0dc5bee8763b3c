"""MLOps Workbench tracking client: log params, metrics, tags and artifacts.

    import mlops_workbench as mlops

    mlops.log_params({"lr": 0.1, "epochs": 30})
    for epoch in range(30):
        mlops.log_metric("loss", loss, step=epoch)
    mlops.log_artifact("model.json")

Where the events go:

- Started by MLOps Workbench (the "Run Python File with Tracking" button or
  ``mlops run -- python3 train.py``): ``MLOPS_RUN_ID``, ``MLOPS_RUN_DIR`` and
  ``MLOPS_DIR`` are set and everything is appended to that run's
  ``events.jsonl``. The launcher writes run_start, capture and run_end;
  ``start_run()`` returns its run and ``end_run()`` only flushes.
- Run by hand: the first ``start_run()`` or log call starts a run in the
  nearest ``.mlops`` folder above the current directory (``MLOPS_DIR`` if set;
  ``./.mlops`` is created when there is none) and the run ends at interpreter
  exit: FINISHED (exit code 0), FAILED (exit code 1) after an uncaught
  exception, FAILED with n after ``sys.exit(n)``, n != 0, KILLED after an
  uncaught KeyboardInterrupt (see ``_exit`` for what cannot be detected).
  ``end_run()`` and leaving ``with start_run():`` end it earlier with
  exit code null (the process has not exited).

Events are buffered and appended at least every half second by a daemon
thread, on ``flush()``, on ``end_run()`` and at exit. A failed disk write warns
on stderr and never raises into your code.

Metric steps: ``step=None`` means the number of points this process already
logged for that key in the current run (0, 1, 2, ...), so calling
``log_metric("loss", x)`` in a loop draws a curve. Pass ``step`` when several
processes log the same key into one run, or to resume a curve.

Validation raises ValueError and logs nothing: keys are non-empty str of at
most 250 characters; metric values are int/float or objects with
``__float__`` (numpy scalars), never bool or str; NaN and +/-inf are kept
(written "NaN", "Infinity", "-Infinity"); param and tag values are str(value),
at most 1 MiB; ``log_params``/``log_metrics`` check every entry first.
"""

import os

from . import _artifacts, _models, _run, _validate
from ._run import Run

__all__ = [
    "Run",
    "active_run",
    "end_run",
    "flush",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
    "start_run",
]

__version__ = "0.1.0"


def start_run(name=None, experiment=None):
    """Start a run (or return the launcher's) and make it current.

    name defaults to the script's file name without .py and the next
    number in the workspace (``train-3``); experiment to
    ``$MLOPS_EXPERIMENT`` or "Default". Both are ignored when a launcher
    started the process. Raises RuntimeError when a self-started run is
    already active. Use as ``with mlops.start_run() as run:``.
    """
    name = _validate.run_label("name", name)
    experiment = _validate.run_label("experiment", experiment)
    return _run.start(name, experiment)


def end_run(status="FINISHED"):
    """End the current self-started run with status FINISHED, FAILED or KILLED.

    Writes run_end (exit_code null) and flushes; the next log call starts a
    new run. For a launcher's run this only flushes. No-op without a run.
    """
    _run.end(_validate.run_end_status(status))


def active_run():
    """The current Run (the launcher's counts), or None; starts nothing."""
    return _run.active()


def flush():
    """Write the pending events of the current run now."""
    _run.flush()


def log_param(key, value):
    """Log one parameter; the value is stored as str(value)."""
    log_params({key: value})


def log_params(params):
    """Log several parameters from a dict; all are checked before any is logged."""
    _log_text("param", params)


def set_tag(key, value):
    """Set one tag on the current run; the value is stored as str(value)."""
    set_tags({key: value})


def set_tags(tags):
    """Set several tags from a dict; all are checked before any is set."""
    _log_text("tag", tags)


def log_metric(key, value, step=None):
    """Log one point of a metric. step: int, default the key's point count."""
    log_metrics({key: value}, step=step)


def log_metrics(metrics, step=None):
    """Log one point of several metrics at the same step; all checked first."""
    items = _checked_keys("metric", _validate.mapping("metrics", metrics))
    points = [(key, _validate.metric_value(key, value)) for key, value in items]
    if step is not None:
        step = _validate.step(points[0][0] if points else "", step)
    if points:
        _run.log_with(lambda run: run.log_metrics(points, step))


def log_artifact(path, artifact_path=None):
    """Copy a file or a folder into the run's artifacts and log each file.

    The copy lands in ``<run dir>/artifacts/[artifact_path/]<basename>``; one
    ``artifact`` event per file records its path (relative, '/'-separated),
    size and sha256. Returns the logged paths.
    """
    if not isinstance(path, (str, bytes)) and not hasattr(path, "__fspath__"):
        raise ValueError("log_artifact: path must be a str or path-like, got %s" % type(path).__name__)
    path = os.fsdecode(os.fspath(path))
    prefix = _artifacts.artifact_prefix(artifact_path)
    if not os.path.exists(path):
        raise FileNotFoundError("log_artifact: no file or folder at %s" % os.path.abspath(path))
    run = _run.current()
    if run is None:
        raise RuntimeError("mlops_workbench: log_artifact() called after the run ended at exit")
    copied = _artifacts.copy_into(path, run.artifacts_dir, prefix, skip_dirs=(run.mlops_dir, run.dir))
    run.log([
        {"type": "artifact", "path": rel, "size": size, "sha256": sha256}
        for rel, size, sha256 in copied
    ])
    return [rel for rel, _, _ in copied]


def log_model(path, name):
    """Snapshot a model file or folder and register it as the next version of model ``name``.

    The version is linked to this run and records its latest metrics. Returns the
    registered version as a dict (``model``, ``version``, ``snapshot``, ``sha256``, ...).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("log_model: name must be a non-empty str, got %r" % (name,))
    path = os.fsdecode(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError("log_model: no file or folder at %s" % os.path.abspath(path))
    run = _run.current()
    if run is None:
        raise RuntimeError("mlops_workbench: log_model() called after the run ended at exit")
    run.flush()  # the registry reads the run's metrics from its log
    return _models.register(run, path, name)


def _checked_keys(kind, items):
    for key, _ in items:
        _validate.key(kind, key)
    return items


def _log_text(kind, values):
    """Log a dict of params or tags (kind "param" or "tag") as str values, every entry checked first."""
    items = [
        (key, _validate.text_value(kind, key, value))
        for key, value in _checked_keys(kind, _validate.mapping(kind + "s", values))
    ]
    if items:
        events = [{"type": kind, "key": key, "value": value} for key, value in items]
        _run.log_with(lambda run: run.log(events))
