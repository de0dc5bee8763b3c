"""The quickstart example trains, tracks its run and helps when the client is missing."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import unittest

from _support import REPO_DIR, TempDirTest, child_env, of_type, read_events, run_dirs

EXAMPLE_DIR = os.path.join(REPO_DIR, "examples", "quickstart")


class QuickstartTest(TempDirTest):
    def setUp(self):
        super(QuickstartTest, self).setUp()
        self.project = os.path.join(self.tmp, "quickstart")
        shutil.copytree(
            EXAMPLE_DIR, self.project,
            ignore=shutil.ignore_patterns(".mlops", "model.json", "__pycache__"),
        )

    def run_example(self, args, env, timeout=120):
        return subprocess.run(
            [sys.executable] + args, cwd=self.project, env=env, timeout=timeout,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
        )

    def test_train_tracks_a_run_that_learns(self):
        result = self.run_example(["train.py"], child_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len([l for l in result.stdout.splitlines() if l.startswith("epoch")]), 30)
        dirs = run_dirs(os.path.join(self.project, ".mlops"))
        self.assertEqual(len(dirs), 1)
        events = read_events(os.path.join(dirs[0], "events.jsonl"))
        self.assertEqual(events[0]["name"], "train-1")
        params = dict((e["key"], e["value"]) for e in of_type(events, "param"))
        self.assertEqual((params["lr"], params["epochs"], params["seed"]), ("0.1", "30", "0"))
        metrics = of_type(events, "metric")
        for key in ("loss", "train_accuracy", "val_accuracy"):
            self.assertEqual([m["step"] for m in metrics if m["key"] == key], list(range(1, 31)))
        final = [m["value"] for m in metrics if m["key"] == "val_accuracy"][-1]
        self.assertGreater(final, 0.9)
        losses = [m["value"] for m in metrics if m["key"] == "loss"]
        self.assertLess(losses[-1], losses[0])

        artifact, = of_type(events, "artifact")
        self.assertEqual(artifact["path"], "model.json")
        with open(os.path.join(self.project, "model.json"), "rb") as f:
            self.assertEqual(artifact["sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertTrue(os.path.isfile(os.path.join(dirs[0], "artifacts", "model.json")))
        self.assertEqual((events[-1]["type"], events[-1]["status"]), ("run_end", "FINISHED"))

    def test_train_without_the_client_explains_how_to_run_it(self):
        env = child_env()
        del env["PYTHONPATH"]
        result = self.run_example(["train.py"], env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("mlops run -- python3 train.py", result.stderr)
        self.assertIn("PYTHONPATH", result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.project, ".mlops")))

    @unittest.skipIf(not hasattr(signal, "SIGTERM") or os.name == "nt", "needs POSIX signals")
    def test_sleep_train_can_be_stopped_keeping_its_ticks(self):
        child = subprocess.Popen(
            [sys.executable, "sleep_train.py", "--interval", "0.2"], cwd=self.project,
            env=child_env(), stdout=subprocess.PIPE, universal_newlines=True,
        )
        try:
            self.assertTrue(child.stdout.readline().startswith("sleep_train: started"))
            for _ in range(3):
                self.assertTrue(child.stdout.readline().startswith("tick"))
            child.send_signal(signal.SIGTERM)
        finally:
            child.wait(60)
            child.stdout.close()
        dirs = run_dirs(os.path.join(self.project, ".mlops"))
        events = read_events(os.path.join(dirs[0], "events.jsonl"))
        self.assertEqual(len(of_type(events, "param")), 2)
        ticks = [e["value"] for e in of_type(events, "metric") if e["key"] == "tick"]
        self.assertGreaterEqual(len(ticks), 3)
        self.assertEqual(ticks, list(range(len(ticks))))


if __name__ == "__main__":
    unittest.main()
