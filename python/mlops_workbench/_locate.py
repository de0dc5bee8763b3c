"""Finding the workspace's .mlops folder and the launcher's run, if any."""

import os

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
