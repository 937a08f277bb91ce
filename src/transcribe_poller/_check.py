"""Checking option values, once for every option of the package.

Each check raises ``TypeError`` for a value of the wrong type (a bool is not a
number, though Python says it is an int) and ``ValueError`` for one out of range,
with a message naming the option; the value is returned as the type it stands for.
"""

from __future__ import annotations

import math


def number(name: str, value: object, *, zero_ok: bool = False, low: float = 0.0) -> float:
    """A finite number above ``low`` (or equal to it, with ``zero_ok``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < low or (value == low and not zero_ok):
        wanted = f"a number >= {low:g}" if zero_ok else f"a number above {low:g}"
        if low == 0:
            wanted = "a number >= 0" if zero_ok else "a positive number"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return float(value)


def whole(name: str, value: object, *, low: int = 0, high: int | None = None) -> int:
    """A whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be at most {high}, got {value!r}")
    return value


def s3_client(name: str, value: object) -> object:
    """None, or an async S3 client: something with ``get_object``."""
    if value is not None and not callable(getattr(value, "get_object", None)):
        raise TypeError(f"{name} must be an aiobotocore S3 client (with get_object), got {value!r}")
    return value
