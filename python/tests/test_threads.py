"""Several threads logging at once: every line whole, every point counted."""

import collections
import os
import threading
import unittest

from _support import AttachedTest, TempDirTest, of_type, read_events, run_dirs

import mlops_workbench as mlops

THREADS = 8
POINTS = 1000


class ThreadSafetyTest(AttachedTest):
    def test_threads_logging_1000_points_each(self):
        start = threading.Barrier(THREADS)
        errors = []

        def work(index):
            try:
                start.wait()
                for i in range(POINTS):
                    mlops.log_metric("thread_%d" % index, i * 0.001, step=i)
                    mlops.log_metric("shared", index)  # default step: the shared count
                    if i % 100 == 0:
                        mlops.flush()
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(errors, [])

        metrics = of_type(self.events(), "metric")  # read_events checks every line
        self.assertEqual(len(metrics), 2 * THREADS * POINTS)
        by_key = collections.defaultdict(list)
        for event in metrics:
            by_key[event["key"]].append(event)
        for index in range(THREADS):
            points = by_key["thread_%d" % index]
            self.assertEqual([p["step"] for p in points], list(range(POINTS)))
        shared = by_key["shared"]
        self.assertEqual(sorted(p["step"] for p in shared), list(range(THREADS * POINTS)))
        self.assertEqual(collections.Counter(p["value"] for p in shared),
                         dict((n, POINTS) for n in range(THREADS)))

    def test_concurrent_first_calls_attach_once(self):
        self.assertEqual(len(set(id(run) for run in log_from_threads())), 1)
        self.assertEqual(len(self.events()), THREADS)


class OwnRunThreadsTest(TempDirTest):
    def test_concurrent_first_calls_start_one_run(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        os.chdir(self.tmp)
        runs = log_from_threads()
        self.assertEqual(len(set(id(run) for run in runs)), 1)
        self.assertEqual(len(run_dirs(os.path.join(self.tmp, ".mlops"))), 1)
        mlops.end_run()
        events = read_events(os.path.join(runs[0].dir, "events.jsonl"))
        self.assertEqual(len(of_type(events, "param")), THREADS)
        self.assertEqual(len(of_type(events, "run_start")), 1)


def log_from_threads():
    """Let THREADS threads make their first log call at once; their runs."""
    runs = []
    barrier = threading.Barrier(THREADS)

    def work():
        barrier.wait()
        mlops.log_param("p", 1)
        runs.append(mlops.active_run())

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return runs


if __name__ == "__main__":
    unittest.main()
