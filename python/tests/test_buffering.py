"""Events are buffered, flushed in time, written in one append, never lost once flushed."""

import os
import signal
import subprocess
import sys
import time
import unittest
from unittest import mock

from _support import AttachedTest, child_env, of_type, read_events, write_script

import mlops_workbench as mlops
from mlops_workbench import _events

# A stand-in for the launcher: appends its own lines to the same file.
APPENDER = r"""
import json, os, sys
path, count = sys.argv[1], int(sys.argv[2])
flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
for i in range(count):
    line = json.dumps({"type": "status", "time": 1764322800000, "status": "RUNNING", "pad": "x" * (i % 300)})
    fd = os.open(path, flags, 0o644)
    os.write(fd, (line + "\n").encode())
    os.close(fd)
"""


class BufferingTest(AttachedTest):
    def test_background_thread_flushes_without_being_asked(self):
        mlops.log_metric("loss", 0.25)
        deadline = time.time() + 3.0  # the thread flushes every 0.5 s
        while time.time() < deadline and not read_events(self.events_path):
            time.sleep(0.05)
        self.assertEqual(len(read_events(self.events_path)), 1)

    def test_flush_appends_all_pending_lines_with_one_write(self):
        _events.FLUSH_INTERVAL = 60  # keep the thread out of the way
        for i in range(500):
            mlops.log_metric("loss", 1.0 / (i + 1))
        real_write = os.write
        with mock.patch("os.write", side_effect=real_write) as write:
            mlops.flush()
        self.assertEqual(write.call_count, 1)
        self.assertEqual(len(read_events(self.events_path)), 500)

    def test_lines_never_interleave_with_another_appender(self):
        appender = write_script(self.tmp, APPENDER, "appender.py")
        child = subprocess.Popen([sys.executable, appender, self.events_path, "3000"], env=child_env())
        try:
            for i in range(5000):
                mlops.log_metric("m", i, step=i)
                if i % 250 == 0:
                    mlops.flush()
        finally:
            child.wait(60)
        events = self.events()  # every line parses: none was cut by the other writer
        self.assertEqual(len(of_type(events, "status")), 3000)
        self.assertEqual([e["value"] for e in of_type(events, "metric")], list(range(5000)))

    def test_atexit_flushes_what_is_pending(self):
        source = (
            "import mlops_workbench as mlops\n"
            "for i in range(100):\n"
            "    mlops.log_metric('loss', i * 0.5)\n"
        )
        write_script(self.tmp, source)
        result = subprocess.run(
            [sys.executable, "job.py"], cwd=self.tmp, env=child_env(**self.launcher_env),
            stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(read_events(self.events_path)), 100)


@unittest.skipIf(not hasattr(signal, "SIGKILL"), "needs SIGKILL")
class KillTest(AttachedTest):
    def kill_after(self, wait_source):
        source = (
            "import sys, time, mlops_workbench as mlops\n"
            "for i in range(200):\n"
            "    mlops.log_metric('loss', i * 0.5)\n"
            + wait_source +
            "print('ready', flush=True)\n"
            "time.sleep(120)\n"
        )
        write_script(self.tmp, source)
        child = subprocess.Popen(
            [sys.executable, "job.py"], cwd=self.tmp, env=child_env(**self.launcher_env),
            stdout=subprocess.PIPE, universal_newlines=True,
        )
        try:
            self.assertEqual(child.stdout.readline().strip(), "ready")
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(60)
            child.stdout.close()
        self.assertEqual(child.returncode, -signal.SIGKILL)
        return read_events(self.events_path)

    def test_sigkill_after_flush_loses_nothing(self):
        events = self.kill_after("mlops.flush()\n")
        self.assertEqual([e["step"] for e in events], list(range(200)))

    def test_sigkill_after_waiting_a_second_and_a_half_loses_nothing(self):
        events = self.kill_after("time.sleep(1.5)\n")
        self.assertEqual(len(events), 200)


if __name__ == "__main__":
    unittest.main()
