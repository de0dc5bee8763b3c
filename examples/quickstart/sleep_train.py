"""A long, idle "training" run: for tests and demos that stop a run.

Logs its params at once, then one metric point per second (flushed before the
progress line is printed, so a printed tick is already in the event log) until
--seconds have passed or the process is stopped.

    python3 sleep_train.py --seconds 600
"""

import argparse
import os
import sys
import time

try:
    import mlops_workbench as mlops
except ImportError:
    _client = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    if not os.path.isdir(os.path.join(_client, "mlops_workbench")):
        _client = "<MLOps Workbench repo>/python"
    sys.exit(
        "sleep_train.py: cannot import mlops_workbench (the MLOps Workbench tracking client).\n"
        "Run it with tracking (the 'Run Python File with Tracking' button, or\n"
        "`mlops run -- python3 sleep_train.py`), or set PYTHONPATH=%s" % _client
    )


def main():
    parser = argparse.ArgumentParser(description="Log one metric point per second for a long time.")
    parser.add_argument("--seconds", type=float, default=3600, help="how long to run (default 3600)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between points (default 1)")
    args = parser.parse_args()

    mlops.log_params({"seconds": args.seconds, "interval": args.interval})
    mlops.flush()
    print("sleep_train: started, pid %d" % os.getpid(), flush=True)
    start = time.time()
    tick = 0
    while time.time() - start < args.seconds:
        mlops.log_metric("tick", tick, step=tick)
        mlops.log_metric("elapsed_seconds", round(time.time() - start, 3), step=tick)
        mlops.flush()
        print("tick %d" % tick, flush=True)
        tick += 1
        time.sleep(max(0.0, start + tick * args.interval - time.time()))
    print("sleep_train: done after %d ticks" % tick, flush=True)


if __name__ == "__main__":
    main()
