"""Encoding of events and the buffered, append-only writer of one events.jsonl.

Events are encoded to whole JSON lines when they are logged and kept in memory.
A daemon thread writes them every FLUSH_INTERVAL seconds; ``flush()`` and
``close()`` write them at once. Each flush appends all pending lines with one
``os.write`` on a file opened with O_APPEND, so a launcher appending to the same
file concurrently never sees its lines and ours interleave; a failed write is
undone and retried whole at the next flush (docs/durability.md).
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
    os.O_RDWR
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)

IN_FLIGHT = 1.0
"""Seconds a tail without a newline may be another process's write still under
way (not damage): it is given this long to finish."""

_SCAN = 64 * 1024


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
    """Append data (whole lines) to the log at path with one os.write.

    The same rules as the extension's appendLog.ts (docs/durability.md): a log
    whose tail does not end in a newline (a write cut off by a crash, or NUL
    bytes) first has that tail moved to ``<path>.damaged``; a write that fails
    is undone (the file cut back to its length before it). Returns the number
    of bytes written; on failure raises OSError with ``written`` set to how
    many bytes of data stayed in the log (0 when the write was undone).
    """
    fd = os.open(path, _OPEN_FLAGS, 0o644)
    try:
        _move_damaged_tail_aside(fd, path)
        start = os.fstat(fd).st_size
        written = 0
        view = memoryview(data)
        try:
            while written < len(data):
                n = os.write(fd, view[written:])
                if n <= 0:
                    raise OSError("write returned %d" % n)
                written += n
        except OSError as error:
            error.written = _undo(fd, start, written, data)
            raise
    finally:
        os.close(fd)
    return written


def _undo(fd, start, written, data):
    """Cut a failed write back out; returns how many bytes of data stay in the log."""
    try:
        if os.fstat(fd).st_size == start + written:
            if written:
                os.ftruncate(fd, start)
            return 0
    except OSError:
        pass
    # Another writer appended after our partial bytes: the whole lines stay,
    # the cut-off one is moved aside by the next append.
    return data.rfind(b"\n", 0, written) + 1


def _move_damaged_tail_aside(fd, path):
    """When the log does not end in a newline, move the bytes after its last one to <path>.damaged."""
    deadline = time.time() + IN_FLIGHT
    while True:
        st = os.fstat(fd)
        start = _damaged_tail_start(fd, st.st_size)
        if start is None:
            return
        if time.time() - st.st_mtime < IN_FLIGHT and time.time() < deadline:
            time.sleep(0.005)
            continue
        damaged = _pread(fd, st.st_size - start, start)
        # Kept before it is cut: on a disk too full to keep it, the append fails and nothing is lost.
        with open(path + ".damaged", "ab") as aside:
            aside.write(damaged + b"\n")
        if os.fstat(fd).st_size != st.st_size:
            continue  # another writer got there first: look again
        os.ftruncate(fd, start)
        kind = "NUL bytes, as a crash can leave" if damaged.count(0) == len(damaged) else "bytes without a newline"
        warn("%s: the last line was cut off (%d %s); moved it to %s.damaged before appending"
             % (path, len(damaged), kind, path))
        return


def _pread(fd, size, offset):
    """size bytes at offset (os.pread where there is one; the O_APPEND writes ignore the position)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _damaged_tail_start(fd, size):
    """Offset just past the last newline when the log does not end in one; None when it does."""
    if size == 0 or _pread(fd, 1, size - 1) == b"\n":
        return None
    end = size
    while end > 0:
        begin = max(0, end - _SCAN)
        chunk = _pread(fd, end - begin, begin)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            return begin + nl + 1
        end = begin
    return 0


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
                    warn("could not write events to %s: %s (they are held and written at the next flush)"
                         % (self.path, error))
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
