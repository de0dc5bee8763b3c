"""A client inside a notebook kernel VS Code started logs into the notebook's run.

VS Code's Jupyter kernels define ``__vsc_ipynb_file__`` in the user namespace;
the extension writes ``.mlops/notebooks/<key>.json`` naming the notebook's run
(docs/notebooks.md). These tests play both parts: a fake IPython shell (or a
script's own ``__main__``) holds the variable, and the test writes the mapping.
"""

import json
import os
import subprocess
import sys
import types
import unittest
import uuid

from _support import HEX32, TempDirTest, child_env, of_type, read_events, run_dirs, run_script

import mlops_workbench as mlops
from mlops_workbench import _locate, _run


class FakeShell(object):
    def __init__(self, user_ns):
        self.user_ns = user_ns


def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class NotebookAttachTest(TempDirTest):
    def setUp(self):
        super(NotebookAttachTest, self).setUp()
        self.mlops_dir = os.path.join(self.tmp, ".mlops")
        os.makedirs(os.path.join(self.mlops_dir, "notebooks"))
        self.notebook = os.path.join(self.tmp, "analysis", "explore.ipynb")
        os.makedirs(os.path.dirname(self.notebook))
        self.run_id = uuid.uuid4().hex
        self.next_run_id = uuid.uuid4().hex
        self.mapping_file = os.path.join(self.mlops_dir, "notebooks", _locate.notebook_key(self.notebook) + ".json")
        self._saved_recheck = _run.NOTEBOOK_RECHECK
        self._saved_ipython = sys.modules.get("IPython")
        self.user_ns = {"__vsc_ipynb_file__": self.notebook}
        fake = types.ModuleType("IPython")
        fake.get_ipython = lambda: FakeShell(self.user_ns)
        sys.modules["IPython"] = fake
        os.chdir(self.tmp)

    def tearDown(self):
        _run._reset()
        _run.NOTEBOOK_RECHECK = self._saved_recheck
        if self._saved_ipython is None:
            sys.modules.pop("IPython", None)
        else:
            sys.modules["IPython"] = self._saved_ipython
        super(NotebookAttachTest, self).tearDown()

    def write_mapping(self, **fields):
        mapping = {
            "notebook": self.notebook,
            "run_id": self.run_id,
            "next_run_id": self.next_run_id,
            "kernel_pid": None,
            "owner": {"pid": 1, "host": "test"},
            "updated": 0,
        }
        mapping.update(fields)
        with open(self.mapping_file, "w") as f:
            json.dump(mapping, f)

    def mapping(self):
        with open(self.mapping_file) as f:
            return json.load(f)

    def events_of(self, run_id):
        mlops.flush()
        return read_events(os.path.join(self.mlops_dir, "runs", run_id, "events.jsonl"))

    def test_logs_into_the_notebooks_run_and_claims_it(self):
        self.write_mapping()
        mlops.log_param("lr", 0.1)
        mlops.log_metric("loss", 0.5)
        run = mlops.active_run()
        self.assertEqual(run.id, self.run_id)
        self.assertTrue(run.attached)
        self.assertEqual([e["type"] for e in self.events_of(self.run_id)], ["param", "metric"])
        self.assertEqual(self.mapping()["kernel_pid"], os.getpid())
        self.assertEqual(self.mapping()["next_run_id"], self.next_run_id)
        mlops.end_run()  # only flushes: the extension ends the notebook's run
        self.assertNotIn("run_end", [e["type"] for e in self.events_of(self.run_id)])

    def test_the_key_is_the_sha256_of_the_normalized_path(self):
        import hashlib

        expected = hashlib.sha256(os.path.normcase(os.path.abspath(self.notebook)).encode("utf-8")).hexdigest()[:32]
        self.assertEqual(_locate.notebook_key(self.notebook), expected)
        self.assertTrue(HEX32.match(expected))

    def test_without_a_mapping_it_starts_its_own_run(self):
        mlops.log_metric("loss", 0.5)
        run = mlops.active_run()
        self.assertFalse(run.attached)
        self.assertIsNone(run.notebook_mapping)
        self.assertEqual(len(run_dirs(self.mlops_dir)), 1)
        events = self.events_of(run.id)
        self.assertEqual(events[0]["type"], "run_start")

    def test_a_mapping_of_another_notebook_is_ignored(self):
        self.write_mapping(notebook=os.path.join(self.tmp, "other.ipynb"))
        mlops.log_metric("loss", 0.5)
        self.assertNotEqual(mlops.active_run().id, self.run_id)
        self.assertFalse(mlops.active_run().attached)

    def test_outside_a_vs_code_kernel_nothing_is_looked_up(self):
        self.write_mapping()
        self.user_ns.pop("__vsc_ipynb_file__")
        self.assertIsNone(_locate.notebook_run())
        mlops.log_metric("loss", 0.5)
        self.assertFalse(mlops.active_run().attached)

    def test_a_damaged_mapping_falls_back_to_an_own_run(self):
        with open(self.mapping_file, "w") as f:
            f.write("{not json")
        mlops.log_metric("loss", 0.5)
        self.assertFalse(mlops.active_run().attached)

    def test_after_a_kernel_restart_it_moves_to_the_next_run(self):
        self.write_mapping(kernel_pid=dead_pid())
        mlops.log_metric("loss", 0.5)
        self.assertEqual(mlops.active_run().id, self.next_run_id)
        mapping = self.mapping()
        self.assertEqual(mapping["run_id"], self.next_run_id)
        self.assertIsNone(mapping["next_run_id"])
        self.assertEqual(mapping["kernel_pid"], os.getpid())
        self.assertEqual(len(of_type(self.events_of(self.next_run_id), "metric")), 1)

    def test_a_restart_without_a_next_run_falls_back_to_an_own_run(self):
        self.write_mapping(kernel_pid=dead_pid(), next_run_id=None)
        mlops.log_metric("loss", 0.5)
        self.assertFalse(mlops.active_run().attached)

    def test_a_run_claimed_by_a_live_process_is_shared(self):
        self.write_mapping(kernel_pid=os.getppid())
        mlops.log_metric("loss", 0.5)
        self.assertEqual(mlops.active_run().id, self.run_id)
        self.assertEqual(self.mapping()["kernel_pid"], os.getppid())

    def test_follows_the_notebook_to_its_new_run_and_lets_go_when_it_closes(self):
        _run.NOTEBOOK_RECHECK = 0
        self.write_mapping()
        mlops.log_metric("loss", 1.0)
        second = uuid.uuid4().hex
        self.write_mapping(run_id=second, kernel_pid=os.getpid())  # the user ended the first run
        mlops.log_metric("loss", 2.0)
        self.assertEqual(mlops.active_run().id, second)
        self.assertEqual([e["value"] for e in of_type(self.events_of(self.run_id), "metric")], [1.0])
        self.assertEqual([e["value"] for e in of_type(self.events_of(second), "metric")], [2.0])
        os.remove(self.mapping_file)  # the notebook was closed
        mlops.log_metric("loss", 3.0)
        own = mlops.active_run()
        self.assertFalse(own.attached)
        self.assertNotIn(own.id, (self.run_id, second))

    def test_the_launchers_run_wins(self):
        self.write_mapping()
        launcher_run = uuid.uuid4().hex
        os.environ.update(MLOPS_RUN_ID=launcher_run, MLOPS_DIR=self.mlops_dir)
        mlops.log_metric("loss", 0.5)
        self.assertEqual(mlops.active_run().id, launcher_run)
        self.assertIsNone(mlops.active_run().notebook_mapping)

    def test_a_kernel_process_with_the_variable_in_main(self):
        self.write_mapping()
        source = (
            "__vsc_ipynb_file__ = %r\n"
            "import mlops_workbench as mlops\n"
            "mlops.log_param('where', 'kernel')\n"
            "print(mlops.active_run().id)\n" % self.notebook
        )
        result = run_script(os.path.dirname(self.notebook), source, env=child_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), self.run_id)
        events = read_events(os.path.join(self.mlops_dir, "runs", self.run_id, "events.jsonl"))
        self.assertEqual([(e["type"], e["value"]) for e in events], [("param", "kernel")])
        self.assertEqual(self.mapping()["kernel_pid"] is not None, True)


if __name__ == "__main__":
    unittest.main()
