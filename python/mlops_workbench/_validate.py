"""Checks on what user code logs; each raises ValueError naming the culprit."""

import math
import operator

MAX_KEY_LENGTH = 250
MAX_VALUE_BYTES = 1024 * 1024
MAX_SAFE_INTEGER = 2 ** 53 - 1  # readers are JavaScript: larger ints lose precision
RUN_END_STATUSES = ("FINISHED", "FAILED", "KILLED")


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s %s" % (type(value).__name__, text)


def _js_length(text):
    # Length as JavaScript counts it (UTF-16 code units): a character outside
    # the Basic Multilingual Plane, such as an emoji, counts twice.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def key(kind, name):
    """A param/metric/tag key: a non-empty str of at most 250 characters.

    Characters are counted as the JavaScript reader counts them (UTF-16 code
    units), so every key the client accepts is one the reader accepts.
    """
    if not isinstance(name, str):
        raise ValueError("%s key must be a str, got %s" % (kind, _describe(name)))
    if not name:
        raise ValueError("%s key must not be empty" % kind)
    length = _js_length(name) if len(name) * 2 > MAX_KEY_LENGTH else len(name)
    if length > MAX_KEY_LENGTH:
        raise ValueError(
            "%s key %r... is %d characters long; the limit is %d"
            % (kind, name[:40], length, MAX_KEY_LENGTH)
        )
    return name


def _is_bool(value):
    # bool, and numpy.bool_ (named "bool" from numpy 2 on), which is no int.
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def metric_value(name, value):
    """A metric value as an int/float, or "NaN"/"Infinity"/"-Infinity".

    int and float pass; bool is refused; other objects with ``__float__``
    (numpy scalars, 0-d tensors, Decimal) are converted with float(); str and
    bytes are refused even when they look like numbers.
    """
    if _is_bool(value):
        raise ValueError("metric %r: value must be a number, got %s" % (name, _describe(value)))
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        try:
            value = float(value)  # JSON readers would round it anyway
        except OverflowError:
            raise ValueError("metric %r: int value %s is too large for a float" % (name, _describe(value)))
    if isinstance(value, float):
        number = value
    elif isinstance(value, (str, bytes, bytearray)) or not hasattr(value, "__float__"):
        raise ValueError(
            "metric %r: value must be a number (int or float), got %s" % (name, _describe(value))
        )
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(
                "metric %r: cannot convert %s to float: %s" % (name, _describe(value), error)
            )
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def step(name, value):
    """An explicit step: an int (or an object with __index__), never a bool."""
    if _is_bool(value) or isinstance(value, float):
        raise ValueError("metric %r: step must be an int, got %s" % (name, _describe(value)))
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError("metric %r: step must be an int, got %s" % (name, _describe(value)))
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise ValueError("metric %r: step %d is outside +/-(2**53 - 1)" % (name, number))
    return number


def text_value(kind, name, value):
    """A param/tag value as str(value), at most 1 MiB of UTF-8."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception as error:
        raise ValueError("%s %r: str() of the value failed: %r" % (kind, name, error))
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_VALUE_BYTES:
        raise ValueError(
            "%s %r: value is %d bytes (%.1f MiB); the limit is %d bytes (1 MiB)"
            % (kind, name, size, size / 1048576.0, MAX_VALUE_BYTES)
        )
    return text


def mapping(kind, values):
    """The items of a dict-like argument of log_params/log_metrics."""
    if not hasattr(values, "items"):
        raise ValueError("%s must be a dict, got %s" % (kind, _describe(values)))
    return list(values.items())


def run_label(kind, value):
    """A run name or experiment name: None or a non-empty str."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("run %s must be a non-empty str, got %s" % (kind, _describe(value)))
    return value


def run_end_status(status):
    if status not in RUN_END_STATUSES:
        raise ValueError(
            "status must be one of %s, got %r" % (", ".join(RUN_END_STATUSES), status)
        )
    return status
