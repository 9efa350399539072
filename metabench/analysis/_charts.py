"""Helpers shared by the analyses that build report sections."""

from __future__ import annotations

import re

import altair as alt
import polars as pl

__all__ = ["inline_data", "section_slug"]


def inline_data(frame: pl.DataFrame) -> alt.Data:
    """Chart data as inline records, NaN as null (callers keep the row count modest).

    Examples
    --------
    >>> inline_data(pl.DataFrame({"x": [1.0, float("nan")]})).values
    [{'x': 1.0}, {'x': None}]
    """
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    return alt.Data(values=frame.with_columns([pl.col(c).fill_nan(None) for c in floats]).to_dicts())


def section_slug(position: int, name: str) -> str:
    """A section key part for the ``position``-th benchmark: unique, and valid whatever the name holds.

    Examples
    --------
    >>> section_slug(0, "simple_echo:num_input_tokens=2")
    '1-simple_echo-num_input_tokens-2'
    """
    return f"{position + 1}-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "benchmark")
