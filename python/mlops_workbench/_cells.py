"""Runs a notebook's code cells with nothing but Python 3 (``mlops notebook run --target``).

    python3 -m mlops_workbench._cells --notebook NB.ipynb [--parameters JSON] [--timeout S]

A target host need not have Jupyter, so this is not a kernel: the code cells run
in order with ``exec`` in one namespace, in the notebook's folder, stopping at
the first error. Each cell's stdout and stderr are captured as its outputs (and
still printed, so they stream back live), the value of a last bare expression
becomes its ``execute_result``, and an exception its ``error`` output. As the
kernel runner does (src/core/notebooks/run_notebook.py), it injects the
parameters after the cell tagged ``parameters``, appends a ``param`` event per
parameter and a ``cell`` event per cell to the run's events.jsonl, saves the
executed notebook as an artifact of the run, and writes ``notebook-result.json``
beside it for the engine. IPython syntax (``%magic``, ``!shell``) cannot run here.

Exit codes: 0 every cell ran; 1 a cell failed or timed out; 3 the notebook cannot be read; 5 stopped.
"""

import argparse
import ast
import io
import json
import linecache
import os
import signal
import sys
import time
import traceback

from . import _artifacts, _events

RESULT_FILE = "notebook-result.json"
INJECTED_TAG = "injected-parameters"


class Stopped(BaseException):
    """SIGTERM from a cancel: stop, save what ran (a BaseException, so a cell's `except Exception` lets it by)."""


class CellTimeout(BaseException):
    """A cell ran past --timeout."""


class Tee(io.TextIOBase):
    """Writes to the real stream (output.log, streamed back) and keeps a copy for the cell's outputs."""

    def __init__(self, real):
        self.real, self.text = real, io.StringIO()

    @property
    def encoding(self):
        return self.real.encoding

    def fileno(self):  # what a subprocess writes goes straight to the real stream, as from a kernel
        return self.real.fileno()

    def flush(self):
        self.real.flush()

    def write(self, s):
        self.real.write(s)
        self.real.flush()
        return self.text.write(s)


def source_of(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def tags_of(cell):
    return cell.get("metadata", {}).get("tags", [])


def inject(nb, parameters):
    """Puts the injected-parameters cell after the one tagged `parameters`; returns the cells' original indexes."""
    kept = [(i, c) for i, c in enumerate(nb["cells"]) if INJECTED_TAG not in tags_of(c)]
    nb["cells"], original = [c for _, c in kept], [i for i, _ in kept]
    if parameters:
        where = next((i + 1 for i, c in enumerate(nb["cells"]) if "parameters" in tags_of(c)), 0)
        source = "# Parameters\n" + "".join("%s = %r\n" % item for item in parameters.items())
        cell = {"cell_type": "code", "metadata": {"tags": [INJECTED_TAG]}, "source": source, "outputs": [], "execution_count": None}
        if nb.get("nbformat_minor", 0) >= 5:
            cell["id"] = INJECTED_TAG  # cell ids exist from nbformat 4.5 on
        nb["cells"].insert(where, cell)
        original.insert(where, None)
    return original


def run_cell(code, namespace, name):
    """Executes the cell; returns the value of its last bare expression (None when there is none)."""
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # tracebacks show the cell's lines
    tree = ast.parse(code, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    return eval(compile(ast.Expression(last.value), name, "eval"), namespace) if last else None


def cell_traceback(failure):
    """The traceback from the cell's own frames on, as Jupyter shows it (this runner's frames left out)."""
    tb = failure.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(failure), failure, tb))


def describe(index):
    return "cell %d (index %d)" % (index + 1, index) if index is not None else "the injected parameters cell"


def execute(args, result, events_file, artifacts):
    try:
        with open(args.notebook, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError) as error:
        result.update(status="invalid_notebook", message="cannot read %s: %s" % (args.notebook, error))
        return 3
    parameters = json.loads(args.parameters) if args.parameters else {}
    original = inject(nb, parameters)
    log = lambda events: events and events_file and _events.append_bytes(events_file, b"".join(_events.encode(e) for e in events))
    log([{"type": "param", "time": _events.now_ms(), "key": k, "value": str(v)} for k, v in parameters.items()])
    os.chdir(os.path.dirname(os.path.abspath(args.notebook)))
    namespace = {"__name__": "__main__"}
    cells = [i for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "code" and source_of(c).strip()]
    result.update(status="ok", output=os.path.join(artifacts, os.path.basename(args.notebook)))
    code = 0
    try:
        for count, i in enumerate(cells, 1):
            cell, started = nb["cells"][i], time.time()
            out, err = Tee(sys.stdout), Tee(sys.stderr)
            sys.stdout, sys.stderr = out, err
            cell["outputs"], cell["execution_count"], error = [], count, None
            if args.timeout:
                signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                value = run_cell(source_of(cell), namespace, "<cell %d>" % count)
            except CellTimeout:
                error = "timed out after %s s" % args.timeout
                result.update(status="timeout")
            except (Exception, SystemExit) as failure:  # sys.exit() in a cell ends the cell, as in a kernel
                tb = cell_traceback(failure)
                hint = " (IPython syntax such as %magic or !shell cannot run on a target)" if isinstance(failure, SyntaxError) and (failure.text or "").lstrip()[:1] in "%!" else ""
                error = "%s: %s%s" % (type(failure).__name__, failure, hint)
                cell["outputs"].append({"output_type": "error", "ename": type(failure).__name__, "evalue": str(failure) + hint, "traceback": tb.splitlines()})
                result.update(status="cell_error", ename=type(failure).__name__, evalue=str(failure) + hint, traceback=tb)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.stdout, sys.stderr = out.real, err.real
            streams = [{"output_type": "stream", "name": n, "text": t.text.getvalue()} for n, t in (("stdout", out), ("stderr", err)) if t.text.getvalue()]
            cell["outputs"][:0] = streams
            if error is None and value is not None:
                cell["outputs"].append({"output_type": "execute_result", "execution_count": count, "metadata": {}, "data": {"text/plain": repr(value)}})
            result["cells_run"] = count
            if original[i] is not None:
                event = {"type": "cell", "time": _events.now_ms(), "index": original[i], "execution_count": count,
                         "duration_ms": int(round((time.time() - started) * 1000)), "status": "error" if error else "ok"}
                log([dict(event, error=error[:2000]) if error else event])
            if error:
                result.update(message="%s failed: %s" % (describe(original[i])[0].upper() + describe(original[i])[1:], error),
                              cell={"index": original[i], "execution_count": count, "injected": original[i] is None})
                code = 1
                break
        else:
            result["message"] = "All %d code cell%s ran." % (len(cells), "" if len(cells) == 1 else "s")
    except Stopped:
        result.update(status="stopped", message="Stopped while running the notebook.")
        code = 5
    finally:
        sys.modules["mlops_workbench"].flush()  # what the cells logged through the client
        os.makedirs(artifacts, exist_ok=True)
        with open(result["output"], "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1)
        size, sha256 = _artifacts.file_digest(result["output"])
        log([{"type": "artifact", "time": _events.now_ms(), "path": os.path.basename(result["output"]), "size": size, "sha256": sha256}])
    return code


def main():
    parser = argparse.ArgumentParser(description="Run a notebook's code cells with plain Python 3.")
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--parameters", default="")
    parser.add_argument("--timeout", type=float, default=0)
    args = parser.parse_args()
    run_dir = os.environ.get("MLOPS_RUN_DIR") or os.getcwd()
    artifacts = os.path.join(run_dir, "artifacts")
    args.notebook = os.path.abspath(args.notebook)

    def stop(signum, frame):
        raise Stopped()

    def timed_out(signum, frame):
        raise CellTimeout()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, timed_out)
    result = {"status": "error", "message": "", "cells_run": 0}
    try:
        code = execute(args, result, os.path.join(run_dir, "events.jsonl") if os.environ.get("MLOPS_RUN_DIR") else None, artifacts)
    finally:
        os.makedirs(artifacts, exist_ok=True)
        with open(os.path.join(artifacts, RESULT_FILE), "w", encoding="utf-8") as f:
            json.dump(result, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
