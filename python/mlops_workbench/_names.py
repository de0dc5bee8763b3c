"""Default names of self-started runs: ``<script>-<n>`` (``train-1``, ``train-2``…).

The same rule as the launcher's (src/core/tracking/runNaming.ts), so runs
started by the extension, ``mlops run`` and plain ``python train.py`` share one
sequence per script.
"""

import json
import os
import re

_FIRST_LINE_BYTES = 4096


def next_run_name(runs_dir, base):
    """``<base>-<n>``, n one above the highest number a run in runs_dir started with under base."""
    prefix = base + "-"
    highest = 0
    for name in _start_names(runs_dir):
        number = name[len(prefix):] if name.startswith(prefix) else ""
        if re.fullmatch(r"[0-9]+", number):
            highest = max(highest, int(number))
    return "%s-%d" % (base, highest + 1)


def _start_names(runs_dir):
    try:
        ids = os.listdir(runs_dir)
    except OSError:
        return []
    names = []
    for run_id in ids:
        try:
            with open(os.path.join(runs_dir, run_id, "events.jsonl"), "rb") as f:
                head = f.read(_FIRST_LINE_BYTES)
            event = json.loads(head.split(b"\n", 1)[0].decode("utf-8"))
        except (OSError, ValueError):
            continue  # not a run folder, or a log still being written
        if isinstance(event, dict) and event.get("type") == "run_start" and isinstance(event.get("name"), str):
            names.append(event["name"])
    return names
