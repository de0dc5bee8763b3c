"""The client never appends after a torn line, and undoes a write that failed (docs/durability.md)."""

import errno
import io
import json
import os
import shutil
import tempfile
import threading
import time
import unittest
from unittest import mock

import _support  # noqa: F401  (puts python/ on sys.path)

from mlops_workbench import _events

WHOLE = b'{"type":"run_start","time":1764322800000,"schema":1}\n'
TAILS = {
    "torn": b'{"type":"metric","time":1764322800000,"key":"loss","val',
    "NUL": b"\x00" * 4096,
}


class TornTailTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-torn-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "events.jsonl")

    def crash_left(self, tail):
        with open(self.path, "wb") as f:
            f.write(WHOLE + tail)
        old = time.time() - 10  # written a while ago: damage, not a write under way
        os.utime(self.path, (old, old))

    def lines(self):
        with open(self.path, "rb") as f:
            return [json.loads(line) for line in f.read().splitlines()]

    def test_damaged_tails_are_moved_aside_before_appending(self):
        for kind, tail in TAILS.items():
            with self.subTest(kind):
                self.crash_left(tail)
                if os.path.exists(self.path + ".damaged"):
                    os.remove(self.path + ".damaged")
                writer = _events.EventWriter(self.path)
                writer.append_many([{"type": "metric", "time": 1764322800001, "key": "loss", "value": 0.5, "step": 1}])
                stderr = io.StringIO()
                with mock.patch("sys.stderr", stderr):
                    self.assertTrue(writer.close())
                self.assertEqual([e["type"] for e in self.lines()], ["run_start", "metric"])
                with open(self.path + ".damaged", "rb") as f:
                    self.assertEqual(f.read(), tail + b"\n")
                self.assertEqual(stderr.getvalue().count("moved it to %s.damaged" % self.path), 1, stderr.getvalue())

    def test_a_failed_write_is_undone_and_written_whole_at_the_next_flush(self):
        with open(self.path, "wb") as f:
            f.write(WHOLE)
        writer = _events.EventWriter(self.path)
        _events.FLUSH_INTERVAL = 60
        self.addCleanup(setattr, _events, "FLUSH_INTERVAL", 0.5)
        writer.append_many([{"type": "metric", "time": 1764322800001, "key": "loss", "value": i, "step": i} for i in range(100)])
        real_write = os.write
        calls = []

        def disk_fills(fd, data):
            calls.append(len(data))
            if len(calls) == 1:
                return real_write(fd, bytes(data[: len(data) // 2]))  # half of it fits
            raise OSError(errno.ENOSPC, "No space left on device")

        with mock.patch("os.write", side_effect=disk_fills), mock.patch("sys.stderr", io.StringIO()):
            self.assertFalse(writer.flush())
        self.assertEqual(os.path.getsize(self.path), len(WHOLE), "the half-written lines were cut back out")
        self.assertTrue(writer.close())
        self.assertEqual([e.get("step") for e in self.lines()], [None] + list(range(100)))

    def test_a_tail_still_being_written_is_waited_for(self):
        line = b'{"type":"tag","time":1764322800000,"key":"a","value":"b"}\n'
        with open(self.path, "wb") as f:
            f.write(WHOLE + line[:20])  # another process's write, half done
        def finish():
            with open(self.path, "ab") as f:
                f.write(line[20:])

        finisher = threading.Timer(0.2, finish)
        finisher.start()
        self.addCleanup(finisher.cancel)
        _events.append_bytes(self.path, b'{"type":"run_end","time":1764322800002,"status":"FINISHED"}\n')
        self.assertFalse(os.path.exists(self.path + ".damaged"))
        self.assertEqual([e["type"] for e in self.lines()], ["run_start", "tag", "run_end"])


if __name__ == "__main__":
    unittest.main()
