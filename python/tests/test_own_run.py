"""A script run by hand starts, captures and ends its own run."""

import os
import platform
import unittest

from _support import (
    HEX32,
    TempDirTest,
    child_env,
    of_type,
    read_events,
    run_dirs,
    run_script,
)

import mlops_workbench as mlops
from mlops_workbench import _locate

LOG_FIVE = (
    "import mlops_workbench as mlops\n"
    "for i in range(5):\n"
    "    mlops.log_metric('loss', 1.0 / (i + 1))\n"
)


class OwnRunTest(TempDirTest):
    def only_run(self, mlops_dir):
        dirs = run_dirs(mlops_dir)
        self.assertEqual(len(dirs), 1, dirs)
        return os.path.basename(dirs[0]), read_events(os.path.join(dirs[0], "events.jsonl"))

    def test_walks_up_to_the_nearest_mlops_and_records_the_run(self):
        project = os.path.join(self.tmp, "project")
        deep = os.path.join(project, "src", "deep")
        os.makedirs(deep)
        os.makedirs(os.path.join(project, ".mlops"))
        result = run_script(deep, LOG_FIVE + "mlops.log_param('lr', 0.1)\n", name="train_model.py")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertFalse(os.path.exists(os.path.join(deep, ".mlops")))
        run_id, events = self.only_run(os.path.join(project, ".mlops"))
        self.assertTrue(HEX32.match(run_id))

        start, capture = events[0], events[1]
        self.assertEqual(start["type"], "run_start")
        self.assertEqual(start["run_id"], run_id)
        self.assertEqual(start["schema"], 1)
        self.assertEqual(start["name"], "train_model-1")
        self.assertEqual(start["experiment"], "Default")
        self.assertEqual(start["source"], "python")
        self.assertEqual(capture["type"], "capture")
        info = capture["capture"]
        self.assertEqual(info["argv"][1:], ["train_model.py"])
        self.assertEqual(os.path.realpath(info["cwd"]), deep)
        self.assertEqual(info["python"]["version"], platform.python_version())
        self.assertTrue(info["python"]["path"])
        self.assertIn("host", info)

        metrics = of_type(events, "metric")
        self.assertEqual([m["step"] for m in metrics], [0, 1, 2, 3, 4])
        self.assertEqual(of_type(events, "param")[0]["value"], "0.1")
        self.assertEqual(events[-1]["type"], "run_end")
        self.assertEqual(events[-1]["status"], "FINISHED")
        self.assertEqual(events[-1]["exit_code"], 0)
        self.assertEqual(len(of_type(events, "run_end")), 1)

    def test_creates_mlops_in_cwd_when_none_is_found(self):
        if _locate.find_mlops_dir(self.tmp):
            self.skipTest("a .mlops folder above the temp folder would be found first")
        result = run_script(self.tmp, LOG_FIVE)
        self.assertEqual(result.returncode, 0, result.stderr)
        run_id, events = self.only_run(os.path.join(self.tmp, ".mlops"))
        self.assertEqual(events[0]["name"], "job-1")

    def test_experiment_and_mlops_dir_from_the_environment(self):
        elsewhere = os.path.join(self.tmp, "store", ".mlops")
        env = child_env(MLOPS_EXPERIMENT="sweep-7", MLOPS_DIR=elsewhere)
        result = run_script(self.tmp, LOG_FIVE, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        _, events = self.only_run(elsewhere)
        self.assertEqual(events[0]["experiment"], "sweep-7")

    def test_default_names_number_the_runs_of_a_script(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        for _ in range(2):
            result = run_script(self.tmp, LOG_FIVE, name="train.py")
            self.assertEqual(result.returncode, 0, result.stderr)
        run_script(self.tmp, "import mlops_workbench as mlops\nmlops.start_run(name='train-9')\n", name="train.py")
        result = run_script(self.tmp, LOG_FIVE, name="train.py")
        self.assertEqual(result.returncode, 0, result.stderr)
        names = sorted(
            read_events(os.path.join(d, "events.jsonl"))[0]["name"]
            for d in run_dirs(os.path.join(self.tmp, ".mlops"))
        )
        # A user's "train-9" is kept and the sequence goes on above it.
        self.assertEqual(names, ["train-1", "train-10", "train-2", "train-9"])

    def test_start_run_names_the_run(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        source = (
            "import mlops_workbench as mlops\n"
            "run = mlops.start_run(name='baseline', experiment='cancer')\n"
            "mlops.log_metric('acc', 0.9)\n"
            "print(run.id, run.dir)\n"
        )
        result = run_script(self.tmp, source)
        self.assertEqual(result.returncode, 0, result.stderr)
        run_id, events = self.only_run(os.path.join(self.tmp, ".mlops"))
        printed_id, printed_dir = result.stdout.split()
        self.assertEqual(printed_id, run_id)
        self.assertEqual(printed_dir, os.path.join(self.tmp, ".mlops", "runs", run_id))
        self.assertEqual((events[0]["name"], events[0]["experiment"]), ("baseline", "cancer"))

    def test_uncaught_exception_ends_the_run_failed_keeping_its_metrics(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        result = run_script(self.tmp, LOG_FIVE + "raise ValueError('diverged')\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn("Traceback", result.stderr)  # the previous excepthook still runs
        self.assertIn("ValueError: diverged", result.stderr)
        _, events = self.only_run(os.path.join(self.tmp, ".mlops"))
        self.assertEqual(len(of_type(events, "metric")), 5)
        self.assertEqual(events[-1]["type"], "run_end")
        self.assertEqual((events[-1]["status"], events[-1]["exit_code"]), ("FAILED", 1))

    def test_sys_exit_codes(self):
        cases = [
            ("sys.exit(3)", 3, "FAILED", 3),
            ("sys.exit(0)", 0, "FINISHED", 0),
            ("sys.exit()", 0, "FINISHED", 0),
            ("sys.exit('bad input')", 1, "FAILED", 1),
            ("raise KeyboardInterrupt", None, "KILLED", None),
            ("sys.excepthook = lambda *exc: None\nraise OSError('disk')", 1, "FAILED", 1),
        ]
        for index, (ending, code, status, exit_code) in enumerate(cases):
            with self.subTest(ending):
                folder = os.path.join(self.tmp, "case%d" % index)
                os.makedirs(os.path.join(folder, ".mlops"))
                result = run_script(folder, LOG_FIVE + "import sys\n" + ending + "\n")
                if code is not None:
                    self.assertEqual(result.returncode, code, result.stderr)
                _, events = self.only_run(os.path.join(folder, ".mlops"))
                self.assertEqual(len(of_type(events, "metric")), 5)
                self.assertEqual((events[-1]["status"], events[-1]["exit_code"]), (status, exit_code))

    def test_end_run_then_logging_starts_a_new_run(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        source = (
            "import mlops_workbench as mlops\n"
            "mlops.log_metric('a', 1)\n"
            "mlops.end_run('KILLED')\n"
            "assert mlops.active_run() is None\n"
            "mlops.log_metric('a', 2)\n"
        )
        result = run_script(self.tmp, source)
        self.assertEqual(result.returncode, 0, result.stderr)
        dirs = run_dirs(os.path.join(self.tmp, ".mlops"))
        self.assertEqual(len(dirs), 2)
        ends = sorted(
            (e["status"], e["exit_code"])
            for d in dirs
            for e in of_type(read_events(os.path.join(d, "events.jsonl")), "run_end")
        )
        self.assertEqual(ends, [("FINISHED", 0), ("KILLED", None)])

    @unittest.skipIf(not hasattr(os, "fork"), "needs os.fork")
    def test_forked_child_neither_repeats_pending_lines_nor_ends_the_run(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        source = (
            "import os, sys, mlops_workbench as mlops\n"
            "mlops.log_metric('parent', 1)  # still pending when forking\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    mlops.log_metric('child', 2)\n"
            "    sys.exit(0)  # runs atexit in the child\n"
            "os.waitpid(pid, 0)\n"
            "mlops.log_metric('parent', 3)\n"
        )
        result = run_script(self.tmp, source)
        self.assertEqual(result.returncode, 0, result.stderr)
        _, events = self.only_run(os.path.join(self.tmp, ".mlops"))
        metrics = sorted((e["key"], e["value"]) for e in of_type(events, "metric"))
        self.assertEqual(metrics, [("child", 2), ("parent", 1), ("parent", 3)])
        self.assertEqual(len(of_type(events, "run_end")), 1)
        self.assertEqual(events[-1]["type"], "run_end")

    def test_failed_write_at_exit_warns_without_breaking_the_script(self):
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        source = (
            "import os, mlops_workbench as mlops\n"
            "run = mlops.start_run()\n"
            "mlops.log_metric('a', 1)\n"
            "path = os.path.join(run.dir, 'events.jsonl')\n"
            "os.remove(path)\n"
            "os.mkdir(path)  # appending to it now fails\n"
            "print('done')\n"
        )
        result = run_script(self.tmp, source)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "done\n")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("mlops_workbench: warning", lines[0])


class ContextManagerTest(TempDirTest):
    def setUp(self):
        super(ContextManagerTest, self).setUp()
        os.makedirs(os.path.join(self.tmp, ".mlops"))
        os.chdir(self.tmp)

    def test_with_block_ends_the_run(self):
        with mlops.start_run(name="cm", experiment="E") as run:
            self.assertIs(mlops.active_run(), run)
            mlops.log_metric("acc", 0.75)
            self.assertFalse(run.attached)
        self.assertIsNone(mlops.active_run())
        self.assertTrue(run.ended)
        self.assertEqual(os.path.dirname(run.dir), os.path.join(self.tmp, ".mlops", "runs"))
        events = read_events(os.path.join(run.dir, "events.jsonl"))
        self.assertEqual([e["type"] for e in events], ["run_start", "capture", "metric", "run_end"])
        self.assertEqual((events[0]["name"], events[0]["experiment"]), ("cm", "E"))
        self.assertEqual(events[-1]["status"], "FINISHED")
        self.assertIsNone(events[-1]["exit_code"])

    def test_exception_in_with_block_fails_the_run(self):
        with self.assertRaises(ZeroDivisionError):
            with mlops.start_run() as run:
                mlops.log_metric("acc", 0.75)
                1 / 0
        events = read_events(os.path.join(run.dir, "events.jsonl"))
        self.assertEqual(events[-1]["status"], "FAILED")
        self.assertEqual(len(of_type(events, "metric")), 1)

    def test_start_run_while_a_run_is_active_raises(self):
        with mlops.start_run():
            with self.assertRaises(RuntimeError):
                mlops.start_run()

    def test_end_run_rejects_unknown_status(self):
        with mlops.start_run():
            with self.assertRaises(ValueError):
                mlops.end_run("DONE")


if __name__ == "__main__":
    unittest.main()
