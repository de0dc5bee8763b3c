"""Runs one notebook headless for MLOps Workbench ("Run Notebook as Experiment", `mlops notebook run`).

Started by the launcher as a tracked run (MLOPS_RUN_ID, MLOPS_RUN_DIR and
MLOPS_DIR are set; the kernel inherits them, so `import mlops_workbench` in the
notebook logs into this run). With the interpreter running this script it:

1. reads the notebook (nbformat) and injects the parameters after the cell
   tagged `parameters` (papermill's convention; at the top when there is none),
   replacing an `injected-parameters` cell left by an earlier run;
2. starts an ipykernel kernel of this same interpreter (nbclient) in the
   notebook's folder and executes the code cells in order, stopping at the
   first error;
3. appends a `param` event per parameter and a `cell` event per executed cell
   to the run's events.jsonl (docs/event-log.md);
4. saves the executed notebook, outputs and all, as an artifact of the run
   (also when a cell failed or the kernel died);
5. writes a result file for the launcher: status ok, cell_error,
   kernel_died, timeout, invalid_notebook, missing_dependency or error.

Exit codes: 0 every cell ran; 1 a cell failed, timed out or the kernel died;
3 the notebook cannot be read; 4 nbclient or ipykernel is missing; 5 anything else.
Works with Python 3.8 and later; needs nbformat, nbclient, jupyter_client and ipykernel.
The tracking client is importable: the launcher puts its folder on PYTHONPATH.
"""

import argparse
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback

from mlops_workbench import _artifacts, _events

EXIT_OK = 0
EXIT_CELL_FAILED = 1
EXIT_INVALID = 3
EXIT_MISSING = 4
EXIT_ERROR = 5

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_ERROR_CHARS = 2000


class Stopped(Exception):
    """SIGTERM/SIGINT from the launcher: stop, save what ran, shut the kernel down."""


def progress(text):
    sys.stdout.write("[mlops] %s\n" % text)
    sys.stdout.flush()


class EventLog(object):
    """Appends whole lines to the run's events.jsonl, with the client's encoding and O_APPEND writes."""

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, "events.jsonl") if run_dir else None

    def append(self, events):
        if self.path and events:
            _events.append_bytes(self.path, b"".join(_events.encode(e) for e in events))


def describe(index, execution_count=None):
    """How a cell is named to a person; index is 0-based (the same words as the TypeScript side)."""
    count = ", In [%d]" % execution_count if execution_count else ""
    return "cell %d (index %d%s)" % (index + 1, index, count)


def missing_modules():
    import importlib.util

    return [m for m in ("nbformat", "nbclient", "jupyter_client", "ipykernel") if importlib.util.find_spec(m) is None]


def read_notebook(path, nbformat):
    """The notebook as nbformat 4, or raises ValueError with a message naming the problem."""
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError("cannot read %s: %s" % (path, error))
    try:
        json.loads(text)
    except ValueError as error:
        raise ValueError("%s is not valid JSON (%s), so it is not a notebook Jupyter can run" % (name, error))
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # NotJSONError, validation, unknown nbformat
        raise ValueError("%s is not a notebook nbformat can read: %s" % (name, error))
    if nb.get("nbformat", 0) < 4:
        raise ValueError("%s could not be upgraded to nbformat 4" % name)
    return nb


def inject_parameters(nb, parameters, nbformat):
    """Inserts the injected-parameters cell; returns (its index or None, original index of each cell)."""
    kept = [(i, c) for i, c in enumerate(nb.cells) if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells = [c for _, c in kept]
    original = [i for i, _ in kept]
    if not parameters:
        return None, original
    where = 0
    for i, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            where = i + 1
            break
    source = "# Parameters\n" + "".join("%s = %r\n" % (name, value) for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source=source, metadata={"tags": [INJECTED_TAG]})
    if nb.get("nbformat_minor", 0) < 5:
        cell.pop("id", None)  # cell ids exist from nbformat 4.5 on
    nb.cells.insert(where, cell)
    original.insert(where, None)
    return where, original


def error_of(cell):
    """(ename, evalue, traceback text) of the cell's error output, ANSI colours removed."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            tb = "\n".join(ANSI.sub("", line) for line in output.get("traceback", []))
            return output.get("ename", "Error"), output.get("evalue", ""), tb
    return None


def kernel_exit_code(km):
    """The dead kernel's exit code when the provisioner knows it."""
    for holder in (getattr(km, "provisioner", None), km):
        process = getattr(holder, "process", None) or getattr(holder, "kernel", None)
        poll = getattr(process, "poll", None)
        if callable(poll):
            try:
                code = poll()
            except Exception:
                code = None
            if isinstance(code, int):
                return code
    return None


FLUSH_CLIENT = "import sys as _s\n_m = _s.modules.get('mlops_workbench')\nif _m is not None: _m.flush()\ndel _s, _m\n"


def flush_client(client):
    """Writes what the tracking client in the kernel still buffers (it flushes every 0.5 s otherwise)."""
    try:
        client.wait_for_reply(client.kc.execute(FLUSH_CLIENT, silent=True, store_history=False))
    except Exception:
        pass


def write_kernelspec(folder, kernel_name):
    """A kernel spec that starts ipykernel in this interpreter, whatever kernels are installed."""
    spec_dir = os.path.join(folder, kernel_name)
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python %d.%d (MLOps Workbench)" % sys.version_info[:2],
            "language": "python",
            # ipykernel's debugger warns about frozen modules on every start otherwise.
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        }, f)


def save_notebook(nb, nbformat, output, events, in_artifacts):
    """Writes the executed notebook and, when it is saved in the run's artifacts folder, its artifact event."""
    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, output)
    if in_artifacts:
        size, sha256 = _artifacts.file_digest(output)
        events.append([{"type": "artifact", "time": _events.now_ms(), "path": os.path.basename(output), "size": size, "sha256": sha256}])


def execute(args, result):
    """Runs the notebook; fills `result`; returns the exit code."""
    missing = missing_modules()
    if missing:
        result.update(status="missing_dependency", message=(
            "The interpreter %s cannot run notebooks: it lacks %s. Install them (pip install nbclient ipykernel; "
            "on Debian: apt-get install python3-nbclient python3-ipykernel) or choose another interpreter."
            % (sys.executable, ", ".join(missing))))
        return EXIT_MISSING

    import warnings

    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from traitlets import default
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    # Notebooks saved without cell ids are common; nbformat only warns about them.
    warnings.filterwarnings("ignore", module="nbformat")
    try:
        nb = read_notebook(args.notebook, nbformat)
    except ValueError as error:
        result.update(status="invalid_notebook", message=str(error))
        return EXIT_INVALID

    parameters = json.loads(args.parameters) if args.parameters else {}
    injected, original = inject_parameters(nb, parameters, nbformat)
    run_dir = os.environ.get("MLOPS_RUN_DIR")
    events = EventLog(run_dir)
    artifacts_dir = os.path.join(run_dir, "artifacts") if run_dir else None
    output = os.path.join(artifacts_dir or os.getcwd(), os.path.basename(args.notebook))
    result["output"] = output
    stamp = _events.now_ms()
    events.append([
        {"type": "param", "time": stamp, "key": name, "value": str(value)} for name, value in parameters.items()
    ])

    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.notebook))
    spec_root = tempfile.mkdtemp(prefix="mlops-kernelspec-")
    kernel_name = "mlops-python"
    write_kernelspec(spec_root, kernel_name)

    class KernelOfThisInterpreter(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _only_our_spec(self):
            return KernelSpecManager(kernel_dirs=[spec_root], ensure_native_kernel=False)

    client = NotebookClient(
        nb, kernel_name=kernel_name, kernel_manager_class=KernelOfThisInterpreter, timeout=args.timeout if args.timeout and args.timeout > 0 else None,
        allow_errors=False, record_timing=True, shutdown_kernel="immediate", resources={"metadata": {"path": cwd}},
    )
    progress("running %s: %d code cell%s with %s" % (
        os.path.basename(args.notebook), len(code_cells), "" if len(code_cells) == 1 else "s", sys.executable))
    code = EXIT_OK
    result.update(status="ok", message="")
    done = 0
    current = None
    try:
        with client.setup_kernel(cwd=cwd):
            info = client.wait_for_reply(client.kc.kernel_info())
            if info and "language_info" in info.get("content", {}):
                nb.metadata["language_info"] = info["content"]["language_info"]
            for position, i in enumerate(code_cells):
                current = i
                cell = nb.cells[i]
                label = describe(original[i]) if original[i] is not None else "the injected parameters cell"
                started = time.time()
                outcome, error = "ok", None
                try:
                    client.execute_cell(cell, i, execution_count=client.code_cells_executed + 1)
                except CellTimeoutError:
                    outcome, error = "error", "timed out after %s s" % args.timeout
                    result.update(status="timeout")
                except CellExecutionError as failure:
                    found = error_of(cell)
                    ename, evalue, tb = found if found else (failure.ename, failure.evalue, str(failure))
                    outcome, error = "error", ("%s: %s" % (ename, evalue)).strip().rstrip(":")
                    result.update(status="cell_error", ename=ename, evalue=evalue, traceback=tb[-20000:])
                except DeadKernelError:
                    exit_code = kernel_exit_code(client.km)
                    outcome = "error"
                    error = "The kernel died while running this cell%s." % (
                        " (exit code %d)" % exit_code if exit_code is not None else "")
                    result.update(status="kernel_died", kernel_exit_code=exit_code)
                duration = int(round((time.time() - started) * 1000))
                count = cell.get("execution_count")
                if original[i] is not None:
                    event = {"type": "cell", "time": _events.now_ms(), "index": original[i], "execution_count": count,
                             "duration_ms": duration, "status": outcome}
                    if error:
                        event["error"] = error[:MAX_ERROR_CHARS]
                    events.append([event])
                done += 1
                progress("%s %s in %d ms [%d/%d]%s" % (
                    label, "ok" if outcome == "ok" else "FAILED", duration, position + 1, len(code_cells),
                    ": " + error if error else ""))
                if outcome != "ok":
                    result["cell"] = {"index": original[i], "execution_count": count, "injected": original[i] is None}
                    where = label[0].upper() + label[1:]
                    if result["status"] == "kernel_died":
                        result["message"] = "The kernel died while running %s%s. The outputs up to it are in the saved notebook." % (
                            label, "; it exited with code %d" % result["kernel_exit_code"] if result.get("kernel_exit_code") is not None else "")
                    else:
                        result["message"] = "%s failed: %s" % (where, error)
                    code = EXIT_CELL_FAILED
                    break
            current = None
            if result["status"] != "kernel_died":
                flush_client(client)
    except Stopped:
        result.update(status="stopped", message="Stopped while running %s." % (
            describe(original[current]) if current is not None and original[current] is not None else "the notebook"))
        code = EXIT_ERROR
    except DeadKernelError:
        result.update(status="kernel_died", message="The kernel died before the first cell ran.")
        code = EXIT_CELL_FAILED
    except RuntimeError as error:  # the kernel failed to start
        result.update(status="error", message="The kernel of %s did not start: %s" % (sys.executable, error))
        code = EXIT_ERROR
    finally:
        shutil.rmtree(spec_root, ignore_errors=True)
        result["cells_run"] = done
        try:
            save_notebook(nb, nbformat, output, events, artifacts_dir is not None)
        except Exception as error:
            result["message"] = (result.get("message", "") + " The executed notebook could not be saved: %s" % error).strip()
            if code == EXIT_OK:
                code = EXIT_ERROR
                result["status"] = "error"
    if code == EXIT_OK:
        result["message"] = "All %d code cell%s ran." % (done, "" if done == 1 else "s")
    return code


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a notebook headless as a tracked run.")
    parser.add_argument("--notebook")
    parser.add_argument("--parameters", default="", help="JSON object of parameter values")
    parser.add_argument("--result", default="", help="JSON file to write the outcome to")
    parser.add_argument("--cwd", default="", help="the kernel's working folder (default: the notebook's)")
    parser.add_argument("--timeout", type=float, default=0, help="seconds a cell may run (0: no limit)")
    parser.add_argument("--missing-modules", action="store_true",
                        help="print the modules this interpreter lacks to run notebooks (a JSON list) and exit")
    args = parser.parse_args(argv)
    if args.missing_modules:
        print(json.dumps(missing_modules()))
        return EXIT_OK
    if not args.notebook:
        parser.error("--notebook is required")

    def stop(signum, frame):
        # nbclient's polling tasks die with the loop; asyncio would complain about each.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise Stopped()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    result = {"status": "error", "message": "", "cells_run": 0}
    try:
        code = execute(args, result)
    except Stopped:
        result.update(status="stopped", message="Stopped before the notebook ran.")
        code = EXIT_ERROR
    except Exception as error:
        result.update(status="error", message="Running the notebook failed: %r" % (error,), traceback=traceback.format_exc())
        code = EXIT_ERROR
    if result.get("message") and not args.result:
        sys.stderr.write("[mlops] %s\n" % result["message"])
    if args.result:
        with open(args.result, "w", encoding="utf-8") as f:
            json.dump(result, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
