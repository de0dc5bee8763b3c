"""log_artifact copies files and folders and records their size and sha256."""

import hashlib
import os
import unittest

from _support import AttachedTest, of_type

import mlops_workbench as mlops


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


class ArtifactTest(AttachedTest):
    def setUp(self):
        super(ArtifactTest, self).setUp()
        self.src = os.path.join(self.tmp, "work")
        os.makedirs(self.src)
        self.artifacts = os.path.join(self.run_dir, "artifacts")

    def assert_artifacts(self, expected):
        """expected: {relative path: bytes}; checks events and the copies."""
        events = of_type(self.events(), "artifact")
        self.assertEqual(sorted(e["path"] for e in events), sorted(expected))
        for event in events:
            data = expected[event["path"]]
            self.assertEqual(event["size"], len(data), event)
            self.assertEqual(event["sha256"], hashlib.sha256(data).hexdigest(), event)
            with open(os.path.join(self.artifacts, *event["path"].split("/")), "rb") as f:
                self.assertEqual(f.read(), data)

    def test_file(self):
        data = os.urandom(3 * 1024 * 1024 + 17)  # more than one copy chunk
        path = write(os.path.join(self.src, "model.bin"), data)
        self.assertEqual(mlops.log_artifact(path), ["model.bin"])
        self.assert_artifacts({"model.bin": data})

    def test_file_under_artifact_path(self):
        path = write(os.path.join(self.src, "model.json"), b'{"w": [1, 2]}')
        mlops.log_artifact(path, artifact_path="models/v1/")
        self.assert_artifacts({"models/v1/model.json": b'{"w": [1, 2]}'})

    def test_empty_file_and_unicode_name(self):
        path = write(os.path.join(self.src, "résumé ✓.txt"), b"")
        mlops.log_artifact(path)
        self.assert_artifacts({"résumé ✓.txt": b""})

    def test_folder(self):
        files = {
            "a.txt": b"alpha\n",
            "sub/b.bin": os.urandom(1000),
            "sub/deeper/c.csv": b"x,y\n1,2\n",
        }
        folder = os.path.join(self.src, "checkpoint")
        for rel, data in files.items():
            write(os.path.join(folder, *rel.split("/")), data)
        os.makedirs(os.path.join(folder, "empty"))
        logged = mlops.log_artifact(folder, artifact_path="ckpt")
        expected = dict(("ckpt/checkpoint/" + rel, data) for rel, data in files.items())
        self.assertEqual(sorted(logged), sorted(expected))
        self.assert_artifacts(expected)

    def test_folder_holding_the_mlops_folder_skips_it(self):
        write(os.path.join(self.tmp, "notes.txt"), b"hi")
        mlops.log_metric("x", 1)
        mlops.flush()  # events.jsonl now exists inside the folder we log
        mlops.log_artifact(self.tmp)
        base = os.path.basename(self.tmp)
        paths = [e["path"] for e in of_type(self.events(), "artifact")]
        self.assertIn(base + "/notes.txt", paths)
        self.assertFalse([p for p in paths if "/.mlops/" in p], paths)

    def test_relogging_a_file_in_place(self):
        path = write(os.path.join(self.artifacts, "out.txt"), b"made in place")
        self.assertEqual(mlops.log_artifact(path), ["out.txt"])
        self.assert_artifacts({"out.txt": b"made in place"})

    def test_bad_arguments_log_nothing(self):
        path = write(os.path.join(self.src, "f.txt"), b"x")
        for bad in ("../escape", "/absolute", "a/../../b", "C:\\x"):
            with self.subTest(bad):
                with self.assertRaises(ValueError):
                    mlops.log_artifact(path, artifact_path=bad)
        with self.assertRaises(FileNotFoundError):
            mlops.log_artifact(os.path.join(self.src, "missing.txt"))
        self.assertEqual(self.events(), [])
        self.assertFalse(os.path.exists(self.artifacts))


if __name__ == "__main__":
    unittest.main()
