"""Bad input raises a clear ValueError and logs nothing; odd numbers are kept."""

import decimal
import json
import unittest

from _support import AttachedTest, of_type, read_events

import mlops_workbench as mlops


class FakeNumpyScalar(object):
    """Behaves like numpy.float32 for float(): not a float subclass."""

    def __init__(self, value):
        self.value = value

    def __float__(self):
        return float(self.value)


class FakeNumpyInt(object):
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class RejectionTest(AttachedTest):
    def assert_rejected(self, call, *fragments):
        with self.assertRaises(ValueError) as caught:
            call()
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertEqual(self.events(), [], "nothing may be logged after: %s" % message)
        return message

    def test_string_metric_value(self):
        self.assert_rejected(lambda: mlops.log_metric("acc", "0.5"), "'acc'", "str")

    def test_bool_and_none_metric_values(self):
        self.assert_rejected(lambda: mlops.log_metric("acc", True), "'acc'", "bool")
        self.assert_rejected(lambda: mlops.log_metric("acc", None), "'acc'", "NoneType")
        self.assert_rejected(lambda: mlops.log_metric("acc", b"1"), "'acc'", "bytes")
        self.assert_rejected(lambda: mlops.log_metric("acc", [1.0]), "'acc'", "list")

    def test_empty_and_non_string_keys(self):
        self.assert_rejected(lambda: mlops.log_metric("", 1.0), "metric key", "empty")
        self.assert_rejected(lambda: mlops.log_param("", 1), "param key", "empty")
        self.assert_rejected(lambda: mlops.set_tag("", "x"), "tag key", "empty")
        self.assert_rejected(lambda: mlops.log_metric(3, 1.0), "metric key", "int")

    def test_key_length_limit(self):
        self.assert_rejected(lambda: mlops.log_metric("k" * 251, 1.0), "251", "250")
        mlops.log_metric("k" * 250, 1.0)
        self.assertEqual(len(self.events()), 1)

    def test_keys_are_measured_like_the_javascript_reader_does(self):
        self.assert_rejected(lambda: mlops.log_metric("\U0001F600" * 126, 1.0), "252")
        mlops.log_metric("\U0001F600" * 125, 1.0)
        self.assertEqual(len(self.events()), 1)

    def test_huge_param_value(self):
        huge = "x" * (1024 * 1024 + 1)
        self.assert_rejected(lambda: mlops.log_param("vocab", huge), "'vocab'", "1048577 bytes")
        mlops.log_param("vocab", "x" * (1024 * 1024))  # exactly 1 MiB is fine
        self.assertEqual(len(self.events()[0]["value"]), 1024 * 1024)

    def test_bad_steps(self):
        self.assert_rejected(lambda: mlops.log_metric("loss", 0.1, step=1.5), "'loss'", "step", "float")
        self.assert_rejected(lambda: mlops.log_metric("loss", 0.1, step=True), "step", "bool")
        self.assert_rejected(lambda: mlops.log_metric("loss", 0.1, step="3"), "step", "str")
        self.assert_rejected(lambda: mlops.log_metric("loss", 0.1, step=2 ** 53), "step", "2**53")
        self.assert_rejected(lambda: mlops.log_metric("loss", 10 ** 400), "'loss'", "too large")

    def test_batches_are_all_or_nothing(self):
        self.assert_rejected(lambda: mlops.log_metrics({"a": 1.0, "b": "bad", "c": 2.0}), "'b'")
        self.assert_rejected(lambda: mlops.log_params({"a": 1, "": 2}), "empty")
        self.assert_rejected(lambda: mlops.log_params({"a": 1, "big": "y" * (1 << 21)}), "'big'")
        self.assert_rejected(lambda: mlops.log_metrics([("a", 1.0)]), "dict")

    def test_end_run_rejects_unknown_status(self):
        self.assert_rejected(lambda: mlops.end_run("DONE"), "FINISHED")


class AcceptedValuesTest(AttachedTest):
    def test_non_finite_values_are_written_as_strings(self):
        mlops.log_metric("x", float("nan"))
        mlops.log_metric("x", float("inf"))
        mlops.log_metric("x", float("-inf"))
        mlops.log_metric("x", FakeNumpyScalar("nan"))
        mlops.flush()
        with open(self.events_path, "rb") as f:
            raw = f.read().decode("utf-8")
        for line in raw.splitlines():
            json.loads(line, parse_constant=lambda name: self.fail("bare %s in %s" % (name, line)))
        values = [e["value"] for e in of_type(read_events(self.events_path), "metric")]
        self.assertEqual(values, ["NaN", "Infinity", "-Infinity", "NaN"])
        self.assertEqual([e["step"] for e in read_events(self.events_path)], [0, 1, 2, 3])

    def test_numbers_of_other_types(self):
        mlops.log_metric("a", 3)
        mlops.log_metric("b", FakeNumpyScalar(0.25))
        mlops.log_metric("c", decimal.Decimal("1.5"))
        mlops.log_metric("d", 2.5, step=FakeNumpyInt(7))
        mlops.log_metric("e", 2 ** 60)  # beyond what a JavaScript number holds exactly
        events = self.events()
        self.assertEqual(
            [(e["key"], e["value"]) for e in events],
            [("a", 3), ("b", 0.25), ("c", 1.5), ("d", 2.5), ("e", float(2 ** 60))],
        )
        self.assertIsInstance(events[0]["value"], int)
        self.assertEqual(events[3]["step"], 7)

    def test_default_step_counts_the_keys_points(self):
        for value in (0.9, 0.8, 0.7):
            mlops.log_metric("loss", value)
        mlops.log_metric("loss", 0.6, step=10)
        mlops.log_metric("loss", 0.5)  # the 5th point of "loss": step 4
        mlops.log_metrics({"loss": 0.4, "acc": 0.9})
        steps = [(e["key"], e["step"]) for e in self.events()]
        self.assertEqual(
            steps,
            [("loss", 0), ("loss", 1), ("loss", 2), ("loss", 10), ("loss", 4), ("loss", 5), ("acc", 0)],
        )

    def test_param_and_tag_values_are_str(self):
        mlops.log_params({"layers": [64, 32], "dropout": None, "name": "résumé ✓"})
        mlops.set_tag("stage", 2)
        events = self.events()
        self.assertEqual(
            [(e["type"], e["key"], e["value"]) for e in events],
            [("param", "layers", "[64, 32]"), ("param", "dropout", "None"),
             ("param", "name", "résumé ✓"), ("tag", "stage", "2")],
        )

    def test_times_are_integer_milliseconds(self):
        mlops.log_metric("a", 1)
        event = self.events()[0]
        self.assertIsInstance(event["time"], int)


if __name__ == "__main__":
    unittest.main()
