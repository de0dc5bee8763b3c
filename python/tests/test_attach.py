"""A process started by the launcher logs into the launcher's run."""

import os
import shutil
import unittest

from _support import AttachedTest, child_env, of_type, read_events, run_script

import mlops_workbench as mlops


class AttachTest(AttachedTest):
    def test_logging_without_start_run_attaches_and_writes_no_lifecycle_events(self):
        mlops.log_param("lr", 0.1)
        mlops.log_metric("loss", 0.5, step=3)
        mlops.set_tag("team", "vision")
        events = self.events()
        self.assertEqual([e["type"] for e in events], ["param", "metric", "tag"])
        self.assertEqual(events[0]["value"], "0.1")
        self.assertEqual(events[1]["step"], 3)
        self.assertFalse(os.path.exists(os.path.join(self.mlops_dir, "runs", "x")))
        self.assertEqual(os.listdir(os.path.join(self.mlops_dir, "runs")), [self.run_id])

    def test_start_run_returns_the_launchers_run(self):
        run = mlops.start_run(name="ignored", experiment="ignored")
        self.assertEqual(run.id, self.run_id)
        self.assertEqual(run.dir, self.run_dir)
        self.assertTrue(run.attached)
        self.assertIs(mlops.start_run(), run)
        self.assertIs(mlops.active_run(), run)

    def test_end_run_and_with_block_only_flush(self):
        with mlops.start_run() as run:
            mlops.log_metric("a", 1)
        self.assertEqual(len(read_events(self.events_path)), 1)  # flushed by __exit__
        mlops.log_metric("a", 2)
        mlops.end_run()
        events = read_events(self.events_path)
        self.assertEqual([e["type"] for e in events], ["metric", "metric"])
        self.assertIs(mlops.active_run(), run)  # still the launcher's run

    def test_active_run_writes_nothing(self):
        run = mlops.active_run()
        self.assertEqual(run.id, self.run_id)
        mlops.flush()
        self.assertEqual(read_events(self.events_path), [])

    def test_run_dir_derived_from_mlops_dir(self):
        del os.environ["MLOPS_RUN_DIR"]
        shutil.rmtree(self.run_dir)
        mlops.log_metric("m", 1.5)
        self.assertEqual(mlops.active_run().dir, self.run_dir)
        self.assertEqual(len(self.events()), 1)

    def test_child_process_exits_write_no_run_end(self):
        cases = {
            "normal": ("", 0),
            "exception": ("raise RuntimeError('boom')\n", 1),
            "sys_exit": ("import sys; sys.exit(4)\n", 4),
        }
        for label, (ending, code) in sorted(cases.items()):
            with self.subTest(label):
                open(self.events_path, "wb").close()
                source = (
                    "import mlops_workbench as mlops\n"
                    "run = mlops.start_run()\n"
                    "print(run.id)\n"
                    "for i in range(5):\n"
                    "    mlops.log_metric('loss', 1.0 / (i + 1))\n"
                    "mlops.end_run()\n"
                    "mlops.log_param('after_end', 'yes')\n" + ending
                )
                result = run_script(self.tmp, source, env=child_env(**self.launcher_env))
                self.assertEqual(result.returncode, code, result.stderr)
                self.assertEqual(result.stdout.strip(), self.run_id)
                events = read_events(self.events_path)
                self.assertEqual(len(of_type(events, "metric")), 5)
                self.assertEqual(len(of_type(events, "param")), 1)
                types = set(e["type"] for e in events)
                self.assertFalse(types & {"run_start", "capture", "run_end"}, types)
                if label == "exception":
                    self.assertIn("RuntimeError: boom", result.stderr)


if __name__ == "__main__":
    unittest.main()
