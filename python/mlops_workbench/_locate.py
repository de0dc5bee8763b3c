"""Finding the workspace's .mlops folder and the run to log into: the launcher's, or a notebook's."""

import hashlib
import json
import os
import sys

MLOPS_FOLDER = ".mlops"


def find_mlops_dir(start):
    """The nearest ``.mlops`` folder in start or one of its parents, or None."""
    current = os.path.abspath(start)
    while True:
        candidate = os.path.join(current, MLOPS_FOLDER)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def mlops_dir_for_new_run(cwd=None):
    """The .mlops folder a self-started run goes into, created if need be.

    ``MLOPS_DIR`` wins when set; otherwise the nearest ``.mlops`` above the
    current directory; otherwise a new ``./.mlops``.
    """
    from_env = os.environ.get("MLOPS_DIR")
    if from_env:
        path = os.path.abspath(from_env)
    else:
        cwd = cwd or os.getcwd()
        path = find_mlops_dir(cwd) or os.path.join(os.path.abspath(cwd), MLOPS_FOLDER)
    os.makedirs(path, exist_ok=True)
    return path


def launcher_run():
    """(run_id, run_dir, mlops_dir) when a launcher started this process, else None.

    The launcher sets ``MLOPS_RUN_ID``, ``MLOPS_RUN_DIR`` and ``MLOPS_DIR``;
    a missing run dir is derived from ``MLOPS_DIR`` (or the nearest .mlops).
    """
    run_id = os.environ.get("MLOPS_RUN_ID", "").strip()
    if not run_id:
        return None
    mlops_dir = os.environ.get("MLOPS_DIR") or find_mlops_dir(os.getcwd())
    if mlops_dir:
        mlops_dir = os.path.abspath(mlops_dir)
    run_dir = os.environ.get("MLOPS_RUN_DIR")
    if run_dir:
        run_dir = os.path.abspath(run_dir)
    else:
        base = mlops_dir or os.path.join(os.getcwd(), MLOPS_FOLDER)
        run_dir = os.path.join(base, "runs", run_id)
    if not mlops_dir:
        mlops_dir = os.path.dirname(os.path.dirname(run_dir))
    return run_id, run_dir, mlops_dir


# ---------------------------------------------------------------- notebooks
#
# A kernel VS Code started for a notebook defines ``__vsc_ipynb_file__`` (the
# notebook's path) in its user namespace. The extension that tracks the
# notebook writes ``.mlops/notebooks/<key>.json`` naming the run of the
# notebook's kernel session; see docs/notebooks.md. The key must match
# notebookKey() in src/core/notebooks/notebookMapping.ts.

NOTEBOOKS_FOLDER = "notebooks"
_RUN_ID_CHARS = frozenset("0123456789abcdef")


def notebook_path():
    """The notebook this kernel runs for (``__vsc_ipynb_file__``), or None outside such a kernel."""
    namespaces = []
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is not None:
        try:
            shell = get_ipython()
            if shell is not None:
                namespaces.append(shell.user_ns)
        except Exception:
            pass
    main = sys.modules.get("__main__")
    if main is not None:
        namespaces.append(vars(main))
    for namespace in namespaces:
        value = namespace.get("__vsc_ipynb_file__")
        if isinstance(value, str) and value:
            return value
    return None


def _normalized(path):
    return os.path.normcase(os.path.abspath(path))


def notebook_key(path):
    """32 hex characters of the sha256 of the normalized notebook path."""
    data = _normalized(path).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


def _is_run_id(value):
    return isinstance(value, str) and len(value) == 32 and set(value) <= _RUN_ID_CHARS


def _pid_alive(pid):
    if os.name == "nt":
        return True  # os.kill(pid, 0) would signal it; restarts are caught by the extension instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path, value):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass


def notebook_run():
    """(run_id, run_dir, mlops_dir, mapping_file) of the notebook's run, or None when it cannot tell.

    The mapping names the run of the current kernel session. A kernel that finds
    it claimed by another kernel process that is gone (the kernel restarted)
    moves on to ``next_run_id``, the run the extension set aside for the next
    session; the first kernel to log claims the run with its pid.
    """
    notebook = notebook_path()
    if not notebook:
        return None
    mlops_dir = find_mlops_dir(os.path.dirname(os.path.abspath(notebook)))
    if not mlops_dir:
        return None
    mapping_file = os.path.join(mlops_dir, NOTEBOOKS_FOLDER, notebook_key(notebook) + ".json")
    mapping = _read_json(mapping_file)
    if not mapping or not isinstance(mapping.get("notebook"), str):
        return None
    if _normalized(mapping["notebook"]) != _normalized(notebook):
        return None
    run_id = mapping.get("run_id")
    pid = os.getpid()
    claimed = mapping.get("kernel_pid")
    if isinstance(claimed, int) and claimed != pid and not _pid_alive(claimed):
        run_id = mapping.get("next_run_id")
        if not _is_run_id(run_id):
            return None
        mapping.update(run_id=run_id, next_run_id=None, kernel_pid=pid)
        _write_json(mapping_file, mapping)
    elif not isinstance(claimed, int) and _is_run_id(run_id):
        mapping["kernel_pid"] = pid
        _write_json(mapping_file, mapping)
    if not _is_run_id(run_id):
        return None
    return run_id, os.path.join(mlops_dir, "runs", run_id), mlops_dir, mapping_file
