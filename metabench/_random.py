"""Random streams keyed by stable labels, and numerics that do not depend on the thread count.

Every random step of an analysis draws from a generator made from the analysis seed and
the labels of what it is about (benchmark, model, item, a stream name), never from a
position in a table or from a generator shared along a loop: the same inputs in any row
or file order, with any number of workers, give the same numbers, and adding a model
does not change the draws made for another.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["cell_uniforms", "keyed_rng", "label_hash", "serial_blas"]

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def label_hash(*labels: object) -> int:
    """A 64-bit hash of labels (their ``str``), the same on every platform and Python run.

    Examples
    --------
    >>> label_hash("medqa", "gpt-4o") == label_hash("medqa", "gpt-4o")
    True
    >>> label_hash("a", "bc") == label_hash("ab", "c")
    False
    """
    text = "\x1f".join(str(x) for x in labels).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def keyed_rng(seed: int | np.random.Generator, *labels: object) -> np.random.Generator:
    """A generator for one unit of work, from the analysis seed and the unit's labels.

    A :class:`numpy.random.Generator` passed as ``seed`` is returned as is (the caller
    then owns the stream).

    Examples
    --------
    >>> a = keyed_rng(7, "medqa", "gpt-4o", "person_fit").random()
    >>> b = keyed_rng(7, "medqa", "gpt-4o", "person_fit").random()
    >>> a == b, a == keyed_rng(7, "medqa", "o1-mini", "person_fit").random()
    (True, False)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    key = label_hash(*labels)
    return np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, key & 0xFFFFFFFF, key >> 32])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective mix of 64-bit integers (Steele, Lea & Flood 2014)."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def cell_uniforms(seed: int, rows: Sequence[object], columns: Sequence[object], stream: str) -> np.ndarray:
    """Uniform numbers in [0, 1), one per (row label, column label) cell, keyed by the labels.

    The number of a cell depends on the seed, the stream name and the two labels only,
    not on which other rows or columns are present or in which order.

    Examples
    --------
    >>> u = cell_uniforms(0, ["m1", "m2"], ["q1", "q2", "q3"], "holdout")
    >>> u.shape, bool(((u >= 0) & (u < 1)).all())
    ((2, 3), True)
    >>> v = cell_uniforms(0, ["m2"], ["q3", "q1"], "holdout")
    >>> bool(v[0, 0] == u[1, 2] and v[0, 1] == u[1, 0])
    True
    """
    base = label_hash(int(seed), stream)
    hr = np.array([label_hash("row", r) for r in rows], dtype=np.uint64)
    hc = np.array([label_hash("col", c) for c in columns], dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_splitmix64(hr ^ np.uint64(base))[:, None] ^ hc[None, :])
    return (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


@contextlib.contextmanager
def serial_blas() -> Iterator[None]:
    """Run the block with the BLAS (and OpenMP) pools at one thread.

    For iterative fits whose path can turn on the last bit of a sum: a threaded BLAS
    splits some reductions by thread, so their rounding, and with it such a fit's
    answer, would depend on the number of threads.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
