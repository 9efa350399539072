"""Formatting of table cells and JSON values shared by every renderer."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from pathlib import PurePath
from typing import Any

import numpy as np
import orjson
import polars as pl

__all__ = ["dumps", "format_value", "is_missing", "is_numeric_dtype", "json_default", "slugify"]


def is_missing(value: Any) -> bool:
    """Whether a cell is missing: ``None`` or a float NaN.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0), is_missing("")
    (True, True, False, False)
    """
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def format_float(value: float, digits: int) -> str:
    """Format a float with ``digits`` decimals, switching to scientific notation where
    fixed-point would hide the value (``0 < |x| < 10**-digits``, when ``digits >= 1``) or be
    unreadably long (``|x| >= 1e15``). ``digits=0`` rounds to whole numbers.

    Examples
    --------
    >>> format_float(0.123456, 3), format_float(12.5, 1), format_float(2e-8, 3), format_float(-0.0001, 2)
    ('0.123', '12.5', '2.00e-08', '-1.0e-04')
    >>> format_float(-0.0004, 3), format_float(float("inf"), 3), format_float(3.0, 0), format_float(0.4, 0)
    ('-4.00e-04', 'inf', '3', '0')
    """
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude >= 1e15 or (digits > 0 and 0 < magnitude < 10.0 ** (-digits)):
        return f"{value:.{max(digits - 1, 1)}e}"
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:  # "-0.000" after rounding
        text = text[1:]
    return text


def format_value(value: Any, digits: int, missing: str) -> str:
    """Format one table cell as text (not yet escaped for any output format).

    Parameters
    ----------
    value : Any
        The cell as returned by :meth:`polars.DataFrame.rows`.
    digits : int
        Decimals for floats (see :func:`format_float`).
    missing : str
        What to show for ``None`` and NaN.

    Examples
    --------
    >>> [format_value(v, 2, "—") for v in (0.5, None, float("nan"), 3, True, "a")]
    ['0.50', '—', '—', '3', 'true', 'a']
    """
    if is_missing(value):
        return missing
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return format_float(float(value), digits)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v, digits, missing) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v, digits, missing)}" for k, v in value.items()) + "}"
    return str(value)


_NUMERIC = (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def is_numeric_dtype(dtype: pl.DataType) -> bool:
    """Whether a column holds numbers (right-aligned in every format).

    Examples
    --------
    >>> is_numeric_dtype(pl.Float64), is_numeric_dtype(pl.String)
    (True, False)
    """
    return dtype.is_numeric() if hasattr(dtype, "is_numeric") else dtype in _NUMERIC


def json_default(value: Any) -> Any:
    """Convert what orjson cannot serialise itself; used as its ``default`` hook.

    Examples
    --------
    >>> json_default(PurePath("a/b.csv")), json_default(decimal.Decimal("0.5")), json_default({2, 1})
    ('a/b.csv', 0.5, [1, 2])
    """
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pl.DataFrame):
        return value.to_dicts()
    if isinstance(value, pl.Series):
        return value.to_list()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot serialise a {type(value).__name__} to JSON; convert it to str, int, float, list or dict")


def dumps(value: Any, *, indent: bool = False) -> str:
    """Serialise to strict JSON text: NaN and infinities become ``null``.

    Examples
    --------
    >>> dumps({"a": float("nan"), "b": [1, 2.5]})
    '{"a":null,"b":[1,2.5]}'
    """
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(value, default=json_default, option=option).decode("utf-8")


def slugify(text: str) -> str:
    """A lowercase identifier made of letters, digits and hyphens.

    Examples
    --------
    >>> slugify("Item response theory (2PL)"), slugify("  ")
    ('item-response-theory-2pl', 'section')
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "section"
