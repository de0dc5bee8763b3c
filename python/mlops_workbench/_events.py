"""Encoding of events and the buffered, append-only writer of one events.jsonl.

Events are encoded to whole JSON lines when they are logged and kept in memory.
A daemon thread writes them every FLUSH_INTERVAL seconds; ``flush()`` and
``close()`` write them at once. Each flush appends all pending lines with one
``os.write`` on a file opened with O_APPEND, so a launcher appending to the same
file concurrently never sees its lines and ours interleave.
"""

import json
import os
import sys
import threading
import time
import weakref

FLUSH_INTERVAL = 0.5
"""Seconds between two flushes by the background thread."""

WAKE_AT = 10000
"""Pending lines that wake the background thread before its interval is up."""

_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


def now_ms():
    """Milliseconds since the Unix epoch, as an int."""
    return int(time.time() * 1000)


def encode(event):
    """One event (a dict) as a UTF-8 JSON line ending with a newline."""
    try:
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8: let JSON escape them instead.
        data = json.dumps(event, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    return data + b"\n"


def warn(message):
    """Print one warning line to stderr; never raises."""
    try:
        sys.stderr.write("mlops_workbench: warning: %s\n" % message)
        sys.stderr.flush()
    except Exception:  # stderr closed or missing (pythonw): nothing to tell
        pass


def append_bytes(path, data):
    """Append data to path with as few os.write calls as the OS allows (one).

    Returns the number of bytes written; raises OSError with ``written`` set
    on the exception when only part of data made it.
    """
    fd = os.open(path, _OPEN_FLAGS, 0o644)
    written = 0
    try:
        view = memoryview(data)
        while written < len(data):
            try:
                n = os.write(fd, view[written:])
            except OSError as error:
                error.written = written
                raise
            if n <= 0:
                error = OSError("write returned %d" % n)
                error.written = written
                raise error
            written += n
    finally:
        os.close(fd)
    return written


class EventWriter(object):
    """Buffered writer of one run's events.jsonl; safe to use from any thread."""

    def __init__(self, path):
        self.path = path
        self._init_state()
        _writers.add(self)

    def _init_state(self):
        self._lock = threading.Lock()  # guards _pending, _closed, _thread
        self._write_lock = threading.Lock()  # one flush at a time, in order
        self._pending = []
        self._carry = b""  # bytes a failed write left for the next flush
        self._wake = threading.Event()
        self._closed = False
        self._thread = None
        self._warned = False

    def append(self, event):
        """Queue one event; the background thread writes it soon."""
        self.append_many([event])

    def append_many(self, events):
        """Queue several events, in order."""
        lines = [encode(event) for event in events]
        with self._lock:
            if self._closed:
                raise RuntimeError("the run's event log %s is closed" % self.path)
            self._pending.extend(lines)
            pending = len(self._pending)
            if self._thread is None:
                self._start_thread()
        if pending >= WAKE_AT:
            self._wake.set()

    def flush(self):
        """Write every pending event now. Returns False (and warns) on failure."""
        with self._write_lock:
            with self._lock:
                lines, self._pending = self._pending, []
            data = self._carry + b"".join(lines)
            self._carry = b""
            if not data:
                return True
            try:
                append_bytes(self.path, data)
            except OSError as error:
                self._carry = data[getattr(error, "written", 0):]
                if not self._warned:
                    self._warned = True
                    warn("could not write events to %s: %s" % (self.path, error))
                return False
            self._warned = False
            return True

    def close(self):
        """Stop the background thread and write what is pending."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        return self.flush()

    @property
    def closed(self):
        return self._closed

    def _start_thread(self):
        thread = threading.Thread(target=self._loop, name="mlops-workbench-flush", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            return  # interpreter shutting down: flush(), close() and exit still write
        self._thread = thread

    def _loop(self):
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            stopping = self._closed
            try:
                self.flush()
            except Exception as error:  # never let the thread die silently
                warn("flush failed: %r" % (error,))
            if stopping:
                return

    def _after_fork_in_child(self):
        # Locks may have been held by threads that do not exist in the child,
        # and the parent's pending lines are the parent's to write.
        closed = self._closed
        self._init_state()
        self._closed = closed


_writers = weakref.WeakSet()


def _after_fork():
    for writer in list(_writers):
        writer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
