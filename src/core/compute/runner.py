"""Runs one job on a target host with nothing but Python 3 (shipped with the job).

  runner.py materialize JOB       build JOB/code from JOB/ship/manifest and the host's object cache
                                  (JOB/../.cache/objects), after adding the objects sent in JOB/ship/objects;
                                  prints "materialized", or "missing ID" lines and exits 75.
                                  Manifest rows: "<blob id> <644|755> <path in JOB>" each ending in a NUL byte
  runner.py launch JOB -- CMD...  materialize, start and follow from the start: a whole job in one connection
  runner.py start JOB -- CMD...   start CMD detached (own session), print "started PID HOST"
  runner.py run JOB -- CMD...     run CMD in the foreground (a Slurm batch job: Slurm holds the session)
  runner.py follow JOB E O [SLURM_JOB]  stream JOB/run/events.jsonl from byte E and JOB/output.log
                                  from byte O as framed lines until the job has ended
  runner.py cancel JOB            end the job's process group (TERM, then KILL)
  runner.py survey WORKDIR        each run's job folder (there, ended, its own bytes, its artifacts' sizes), the
                                  other job folders, and the object cache (objects, bytes, those no job uses): JSON
  runner.py clean WORKDIR         removes those runs' job folders (ended ones only), then the cached objects no job
                                  folder links to: JSON of what went
  (survey and clean read the run ids on stdin, one a line, however many; they need no job folder, so the
  engine sends this file in the command line: see src/core/compute/targetCleanup.ts.)

Frames on stdout: "E <offset> <event line>", "O <offset> <base64 bytes>", "X <exit json>"; launch then
sends the artifacts folder as a tar stream in "A <base64 bytes>" frames, ended by "Z".
Offsets say where the next read starts, so a dropped connection reattaches where it left.
"""
import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time

GPU_QUERY = ["--query-gpu=index,utilization.gpu,memory.used,power.draw", "--format=csv,noheader,nounits"]
GPU_METRICS = ("utilization", "memory_used_mib", "power_w")

MISSING_EXIT = 75
# Every cached object carries this mtime and mode 644. Job files are hard links to them, so a job that
# rewrites or chmods its copy in place changes the object: it is then no longer trusted, and sent again.
CACHED_MTIME = 946684800  # 2000-01-01: after 1980, which zip archives cannot go below
OID = re.compile(rb"^[0-9a-f]{40}$")


def materialize(job):
    # Bytes throughout: any name the file system holds survives, and 10,000s of rows stay cheap.
    job = os.fsencode(os.path.abspath(job))
    ship = job + b"/ship"
    objects = os.path.dirname(job) + b"/.cache/objects"
    rows = []
    with open(ship + b"/manifest", "rb") as f:
        for row in f.read().split(b"\0")[:-1]:
            oid, mode, rel = row[:40], row[41:44], row[45:]
            if not OID.match(oid) or mode not in (b"644", b"755") or row[40:41] != b" " or row[44:45] != b" ":
                sys.exit("materialize: a damaged manifest row: %r" % row)
            rows.append((oid, mode, inside(job, rel)))
    incoming = ship + b"/objects"
    fans = set()  # the cache's folders made or seen already: one mkdir each, not one per object
    with cache_lock(os.path.dirname(job), fcntl.LOCK_SH):  # clean waits: no object goes while this job links to it
        _build(job, objects, rows, incoming, fans)
    shutil.rmtree(ship)
    print("materialized", flush=True)


def _build(job, objects, rows, incoming, fans):
    for oid in os.listdir(incoming) if os.path.isdir(incoming) else ():
        admit(job, incoming + b"/" + oid, oid, objects, rows, fans)
    missing = [oid for oid in dict.fromkeys(r[0] for r in rows) if not trusted(cached(objects, oid))]
    if missing:
        sys.stdout.write("".join("missing %s\n" % oid.decode() for oid in missing))
        sys.exit(MISSING_EXIT)
    made = {job + b"/code"}
    os.makedirs(job + b"/code", exist_ok=True)
    link = os.link
    for oid, mode, dest in rows:
        parent = dest[:dest.rindex(b"/")]
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        if mode == b"644":
            try:
                link(cached(objects, oid), dest)
                continue
            except OSError:
                pass
        shutil.copyfile(cached(objects, oid), dest)  # executables get their own copy: a mode belongs to the object
        os.chmod(dest, int(mode, 8))


class cache_lock:
    """WORKDIR/.cache/lock: held shared while materialize links to cached objects, exclusively while clean prunes them."""

    def __init__(self, workdir, how):
        self.cache, self.how = os.path.join(os.fsencode(workdir), b".cache"), how

    def __enter__(self):
        os.makedirs(self.cache, exist_ok=True)
        self.fd = os.open(self.cache + b"/lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, self.how)

    def __exit__(self, *exc):
        os.close(self.fd)


def inside(job, rel):
    """JOB/REL for a REL under code/, refusing a path that could leave it (absolute, "..", empty parts)."""
    if not rel.startswith(b"code/") or any(part in b"/" + rel + b"/" for part in (b"//", b"/./", b"/../")):
        sys.exit("materialize: refusing the path %r: it would not stay inside the job's code folder" % rel)
    return job + b"/" + rel


def cached(objects, oid):
    return objects + b"/" + oid[:2] + b"/" + oid[2:]


def trusted(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    if st.st_mtime == CACHED_MTIME and st.st_mode & 0o777 == 0o644:
        return True
    os.unlink(path)  # changed in place through a job's link: sent again
    return False


def admit(job, path, oid, objects, rows, fans):
    """Moves a sent object into the cache once its content proves to be its id."""
    h = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if not OID.match(oid) or h.hexdigest().encode() != oid:
        name = next((r[2][len(job) + 6:] for r in rows if r[0] == oid), oid)
        sys.exit("materialize: %s changed while it was being shipped; run again" % os.fsdecode(name))
    os.chmod(path, 0o644)
    os.utime(path, (CACHED_MTIME, CACHED_MTIME))
    dest = cached(objects, oid)
    if oid[:2] not in fans:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        fans.add(oid[:2])
    if trusted(dest):  # sent by another workspace's record: the jobs linked to the cached copy keep sharing it
        os.unlink(path)
    else:
        os.replace(path, dest)


def start(job, command):
    job = os.path.abspath(job)
    pid = os.fork()
    if pid:
        print("started %d %s" % (pid, socket.gethostname()), flush=True)
        return
    os.setsid()  # own session and process group: survives the ssh connection; cancel kills the group
    with open(os.path.join(job, "pid"), "w") as f:
        f.write(str(os.getpid()))
    run(job, command)
    os._exit(0)


def run(job, command):
    """Runs the command with its output in JOB/output.log, then writes JOB/exit (code or signal)."""
    job = os.path.abspath(job)
    devnull = os.open(os.devnull, os.O_RDWR)
    log = os.open(os.path.join(job, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    # A handler rather than SIG_IGN: the command must still die of the group's TERM (exec resets handlers).
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGHUP, lambda *_: None)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.path.join(job, "client"), os.environ.get("PYTHONPATH")])))
    done = threading.Event()
    sampler = threading.Thread(target=sample_gpus, args=(os.path.join(job, "run", "events.jsonl"), done), daemon=True)
    sampler.start()
    try:
        # A target's `python: ~/envs/x/bin/python` names a path in this host's home.
        command = [os.path.expanduser(command[0])] + command[1:]
        code = subprocess.call(command, cwd=os.path.join(job, "code"), env=env)
        result = {"code": code} if code >= 0 else {"code": None, "signal": -code}
    except OSError as e:
        result = {"code": None, "error": "cannot start %s: %s" % (command[0], e.strerror)}
    done.set()
    sampler.join(10)
    with open(os.path.join(job, "exit.tmp"), "w") as f:
        json.dump(result, f)
    os.rename(os.path.join(job, "exit.tmp"), os.path.join(job, "exit"))


def sample_gpus(events, done):
    """Appends nvidia-smi's utilisation, memory and power as system metrics every
    MLOPS_GPU_SAMPLE_SECONDS (default 10; 0: off) until `done`; a host without nvidia-smi is not sampled."""
    try:
        seconds = float(os.environ.get("MLOPS_GPU_SAMPLE_SECONDS") or 10)
    except ValueError:
        seconds = 10
    smi = shutil.which("nvidia-smi")
    step = 0
    while seconds > 0 and smi and not done.is_set():
        try:
            out = subprocess.run([smi] + GPU_QUERY, capture_output=True, text=True, timeout=15)
        except subprocess.TimeoutExpired:
            done.wait(seconds)  # a slow answer only loses this sample
            continue
        except OSError:
            return
        if out.returncode != 0:
            return
        now = int(time.time() * 1000)
        points = []
        for line in out.stdout.splitlines():
            cells = [c.strip() for c in line.split(",")]
            if len(cells) < 4 or not cells[0].isdigit():
                continue
            for name, text in zip(GPU_METRICS, cells[1:]):
                try:
                    points.append(["system/gpu%s/%s" % (cells[0], name), float(text), step, now])
                except ValueError:
                    pass  # "[N/A]": this GPU cannot say
        if points:
            line = json.dumps({"type": "metrics", "time": now, "points": points}) + "\n"
            fd = os.open(events, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))  # one O_APPEND write: whole lines beside the client's
            finally:
                os.close(fd)
        step += 1
        done.wait(seconds)


def _new_bytes(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(1 << 20)
    except FileNotFoundError:
        return b""


SLURM_ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "STAGE_OUT", "SIGNALING")


def _slurm_ended(job, slurm_job):
    """Writes JOB/exit for a Slurm job that ended without its runner writing one (killed, node lost)."""
    result = subprocess.run(["scontrol", "-o", "show", "job", slurm_job], capture_output=True, text=True)
    state = next((w.split("=", 1)[1] for w in result.stdout.split() if w.startswith("JobState=")), None)
    if state in SLURM_ACTIVE or (state is None and result.returncode == 0):
        return
    time.sleep(1)  # the runner may be writing its exit right now
    if os.path.exists(os.path.join(job, "exit")):
        return
    ended = {"code": None, "error": "Slurm job %s ended as %s before the runner recorded how the command ended; see slurm.out in %s" % (slurm_job, state or "unknown (purged)", job)}
    if state == "CANCELLED":
        ended["signal"] = int(signal.SIGKILL)
    with open(os.path.join(job, "exit"), "w") as f:
        json.dump(ended, f)


def follow(job, events_at, output_at, slurm_job=None):
    events = os.path.join(job, "run", "events.jsonl")
    output = os.path.join(job, "output.log")
    out = sys.stdout
    checked = began = time.time()
    while True:
        if slurm_job and time.time() - checked > 2 and not os.path.exists(os.path.join(job, "exit")):
            checked = time.time()
            _slurm_ended(job, slurm_job)
        ended = os.path.exists(os.path.join(job, "exit"))  # read before draining, so nothing written last is missed
        chunk = _new_bytes(events, events_at)
        end = chunk.rfind(b"\n") + 1  # whole lines only; a line being written waits for the next round
        for line in chunk[:end].splitlines():
            events_at += len(line) + 1
            out.write("E %d %s\n" % (events_at, line.decode("utf-8", "replace")))
        data = _new_bytes(output, output_at)
        if data:
            output_at += len(data)
            out.write("O %d %s\n" % (output_at, base64.b64encode(data).decode("ascii")))
        out.flush()
        if ended and not data and end == len(chunk):
            with open(os.path.join(job, "exit")) as f:
                out.write("X %s\n" % f.read().strip())
            out.flush()
            return
        if not data and not end:
            time.sleep(0.02 if time.time() - began < 2 else 0.2)  # quick at first: a short job's end is seen at once


class _Frames:
    """A file-like stdout that frames what is written as "A <base64>" lines."""

    def write(self, data):
        sys.stdout.write("A %s\n" % base64.b64encode(data).decode("ascii"))
        return len(data)


def send_artifacts(job):
    """After the exit frame: JOB/run/artifacts as a tar stream in "A" frames, then "Z" (saves a connection to fetch them)."""
    with tarfile.open(fileobj=_Frames(), mode="w|") as tar:
        tar.add(os.path.join(job, "run", "artifacts"), arcname="artifacts")
    sys.stdout.write("Z\n")
    sys.stdout.flush()


def cancel(job):
    with open(os.path.join(job, "pid")) as f:
        group = int(f.read().strip())
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.time() + wait
        while time.time() < deadline and not os.path.exists(os.path.join(job, "exit")):
            time.sleep(0.1)
        if os.path.exists(os.path.join(job, "exit")):
            break
    if not os.path.exists(os.path.join(job, "exit")):  # KILL took the runner too: say how the job ended
        with open(os.path.join(job, "exit"), "w") as f:
            json.dump({"code": None, "signal": int(signal.SIGKILL)}, f)
    print("cancelled")


RUN_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


def _own_bytes(folder):
    """Bytes of the files under FOLDER that nothing else links to (job files linked to the cache are the cache's)."""
    total = 0
    for d, _, names in os.walk(folder):
        for n in names:
            st = os.lstat(os.path.join(d, n))
            if st.st_nlink == 1:
                total += st.st_size
    return total


def _job(workdir, run_id):
    if not RUN_ID.match(run_id):
        sys.exit("not a run id: %r" % run_id)
    return os.path.join(workdir, run_id)


def _cache_objects(workdir):
    """(path, oid, size, links) of every cached object."""
    objects = os.path.join(workdir, ".cache", "objects")
    for fan in sorted(os.listdir(objects)) if os.path.isdir(objects) else ():
        folder = os.path.join(objects, fan)
        for rest in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
            st = os.lstat(os.path.join(folder, rest))
            yield os.path.join(folder, rest), fan + rest, st.st_size, st.st_nlink


def survey(workdir, run_ids):
    jobs = {}
    for run_id in run_ids:
        job = _job(workdir, run_id)
        if not os.path.isdir(job):
            jobs[run_id] = {"present": False}
            continue
        artifacts = os.path.join(job, "run", "artifacts")
        sizes = {}
        for d, _, names in os.walk(artifacts):
            for n in names:
                p = os.path.join(d, n)
                sizes[os.path.relpath(p, artifacts)] = os.lstat(p).st_size
        jobs[run_id] = {"present": True, "ended": os.path.exists(os.path.join(job, "exit")), "bytes": _own_bytes(job), "artifacts": sizes}
    others = [n for n in os.listdir(workdir) if n not in jobs and not n.startswith(".")] if os.path.isdir(workdir) else []
    cache = {"objects": 0, "bytes": 0, "unused": 0, "unusedBytes": 0}
    for _, _, size, links in _cache_objects(workdir):
        cache["objects"] += 1
        cache["bytes"] += size
        if links == 1:
            cache["unused"] += 1
            cache["unusedBytes"] += size
    print(json.dumps({"jobs": jobs, "others": len(others), "cache": cache}))


def clean(workdir, run_ids):
    removed, kept, job_bytes = [], {}, 0
    for run_id in run_ids:
        job = _job(workdir, run_id)
        if not os.path.isdir(job):
            continue
        if not os.path.exists(os.path.join(job, "exit")):
            kept[run_id] = "still running"
            continue
        job_bytes += _own_bytes(job)
        shutil.rmtree(job)
        removed.append(run_id)
    pruned, pruned_bytes = [], 0
    with cache_lock(workdir, fcntl.LOCK_EX):
        for path, oid, size, links in _cache_objects(workdir):
            if links == 1:  # in no job folder now
                os.unlink(path)
                pruned.append(oid)
                pruned_bytes += size
                try:
                    os.rmdir(os.path.dirname(path))  # its fan-out folder, once empty
                except OSError:
                    pass
    print(json.dumps({"removed": removed, "kept": kept, "jobBytes": job_bytes, "pruned": pruned, "prunedBytes": pruned_bytes}))


if __name__ == "__main__":
    mode, job = sys.argv[1], sys.argv[2]
    if mode == "materialize":
        materialize(job)
    elif mode == "launch":
        materialize(job)
        start(job, sys.argv[sys.argv.index("--") + 1:])
        follow(os.path.abspath(job), 0, 0)
        send_artifacts(os.path.abspath(job))
    elif mode == "start":
        start(job, sys.argv[sys.argv.index("--") + 1:])
    elif mode == "run":
        run(job, sys.argv[sys.argv.index("--") + 1:])
    elif mode == "follow":
        follow(job, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)
    elif mode == "cancel":
        cancel(job)
    elif mode == "survey":
        survey(job, sys.stdin.read().split())
    elif mode == "clean":
        clean(job, sys.stdin.read().split())
    else:
        sys.exit("unknown mode %r" % mode)
