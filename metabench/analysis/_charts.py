"""Helpers shared by the analyses that draw charts."""

from __future__ import annotations

import altair as alt
import polars as pl

__all__ = ["inline_data"]


def inline_data(frame: pl.DataFrame) -> alt.Data:
    """Chart data as inline records, NaN as null (callers keep the row count modest).

    Examples
    --------
    >>> inline_data(pl.DataFrame({"x": [1.0, float("nan")]})).values
    [{'x': 1.0}, {'x': None}]
    """
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    return alt.Data(values=frame.with_columns([pl.col(c).fill_nan(None) for c in floats]).to_dicts())
