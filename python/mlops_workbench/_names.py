"""Default names of self-started runs: ``<script>-<n>`` (``train-1``, ``train-2``…).

The same rule as the launcher's (src/core/tracking/runNaming.ts), so runs
started by the extension, ``mlops run`` and plain ``python train.py`` share one
sequence per script.
"""

import json
import os
import re
from urllib.parse import quote

_FIRST_LINE_BYTES = 4096


def next_run_name(runs_dir, base):
    """``<base>-<n>``, n one above the highest number a run in runs_dir started with under base,
    and claimed in ``.mlops/index/run-names/`` (as runNaming.ts does): runs started at the same
    moment have not written their names yet, so a name taken there moves on to the next number."""
    prefix = base + "-"
    highest = 0
    for name in _start_names(runs_dir):
        number = name[len(prefix):] if name.startswith(prefix) else ""
        if re.fullmatch(r"[0-9]+", number):
            highest = max(highest, int(number))
    n = highest + 1
    if not os.path.isdir(os.path.dirname(runs_dir)):
        return "%s-%d" % (base, n)  # no workspace folder yet: nothing to claim in
    claims = os.path.join(os.path.dirname(runs_dir), "index", "run-names")
    try:
        os.makedirs(claims, exist_ok=True)
    except OSError:
        return "%s-%d" % (base, n)  # a read-only or full disk: the name unclaimed
    while True:
        name = "%s-%d" % (base, n)
        try:
            # The file name as JavaScript's encodeURIComponent writes it, so both sides claim one file.
            claim = os.path.join(claims, quote(name, safe="!*'()"))
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return name
        except FileExistsError:
            n += 1
        except OSError:
            return name  # a read-only or full disk: the name unclaimed


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
