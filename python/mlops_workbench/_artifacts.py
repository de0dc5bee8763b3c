"""Copying files into a run's artifacts folder, measuring and hashing them."""

import hashlib
import os

_CHUNK = 1024 * 1024


def artifact_prefix(artifact_path):
    """A validated ``artifact_path`` as '/'-separated parts ([] for None)."""
    if artifact_path is None:
        return []
    if not isinstance(artifact_path, str):
        raise ValueError("artifact_path must be a str, got %s" % type(artifact_path).__name__)
    normalized = artifact_path.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise ValueError("artifact_path %r must be relative to the artifacts folder" % artifact_path)
    parts = [part for part in normalized.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError("artifact_path %r must not contain '..'" % artifact_path)
    return parts


def file_digest(path):
    """(size, sha256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _copy_file(source, target):
    """Copy source to target (atomically replaced); return (size, sha256 hex)."""
    if os.path.exists(target) and os.path.samefile(source, target):
        return file_digest(source)
    digest = hashlib.sha256()
    size = 0
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    temp = os.path.join(parent, ".%s.tmp-%d" % (os.path.basename(target), os.getpid()))
    try:
        with open(source, "rb") as src, open(temp, "wb") as dst:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return size, digest.hexdigest()


def copy_into(source, artifacts_dir, prefix, skip_dirs=()):
    """Copy an existing file or folder (log_artifact checked) into artifacts_dir/prefix/<basename>.

    Returns one (path, size, sha256) per file copied, path relative to the
    artifacts folder with '/' separators. Folders named in skip_dirs (the
    .mlops folder itself) are never copied, so logging "." cannot recurse.
    """
    source = os.path.abspath(source)
    base = os.path.basename(source.rstrip("/\\"))
    if not base:
        raise ValueError("log_artifact: cannot log the file system root %s" % source)
    root_parts = prefix + [base]
    if os.path.isfile(source):
        return [_copy_one(source, artifacts_dir, root_parts)]
    skip = set(os.path.realpath(path) for path in skip_dirs)
    copied = []
    for folder, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(
            name for name in dirnames if os.path.realpath(os.path.join(folder, name)) not in skip
        )
        relative = os.path.relpath(folder, source)
        parts = root_parts + ([] if relative == "." else relative.replace("\\", "/").split("/"))
        for name in sorted(filenames):
            path = os.path.join(folder, name)
            if os.path.isfile(path):  # skips sockets, fifos, broken links
                copied.append(_copy_one(path, artifacts_dir, parts + [name]))
    return copied


def _copy_one(source, artifacts_dir, parts):
    size, sha256 = _copy_file(source, os.path.join(artifacts_dir, *parts))
    return "/".join(parts), size, sha256
