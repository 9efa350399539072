"""Readers for evaluation outputs, format detection and :func:`load`."""

from __future__ import annotations

from metabench.io.detect import load, validate

__all__ = ["load", "validate"]
