"""Array backends for the IRT engine: numpy (default) and torch (CPU or CUDA).

The EM code is written once against the small set of operations below, so the
numpy and torch paths compute the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metabench.errors import InputError

__all__ = ["Backend", "get_backend"]


class Backend:
    """numpy operations used by the engine."""

    name = "numpy"

    def __init__(self, dtype: Any = np.float64) -> None:
        self.dtype = dtype

    def asarray(self, x: Any) -> Any:
        return np.asarray(x, dtype=self.dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return np.zeros(shape, dtype=self.dtype)

    def exp(self, x: Any) -> Any:
        return np.exp(x)

    def log(self, x: Any) -> Any:
        return np.log(x)

    def sigmoid(self, x: Any) -> Any:
        # σ(x) = (1 + tanh(x/2)) / 2: one transcendental call, no overflow
        out = np.multiply(x, 0.5, dtype=x.dtype)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out

    def softplus(self, x: Any) -> Any:
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|); several times faster than logaddexp
        out = np.abs(x)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        out += np.maximum(x, 0.0)
        return out

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        return np.clip(x, lo, hi)

    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> Any:
        return np.sum(x, axis=axis)

    def max(self, x: Any, axis: int) -> Any:
        return np.max(x, axis=axis, keepdims=True)

    def matmul(self, a: Any, b: Any) -> Any:
        return a @ b

    def einsum(self, spec: str, *ops: Any) -> Any:
        return np.einsum(spec, *ops, optimize=True)

    def solve(self, a: Any, b: Any) -> Any:
        return np.linalg.solve(a, b[..., None])[..., 0]

    def cholesky(self, a: Any) -> Any:
        return np.linalg.cholesky(a)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        return np.where(c, a, b)

    def with_ones(self, x: Any) -> Any:
        """Append a column of ones to a 2-D array."""
        return np.concatenate([x, np.ones((x.shape[0], 1), dtype=x.dtype)], axis=1)


class TorchBackend(Backend):
    """torch operations (device ``cpu`` or ``cuda``)."""

    name = "torch"

    def __init__(self, device: str = "cpu", dtype: str = "float64") -> None:
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InputError(
                "backend='torch' needs PyTorch", fix="pip install 'metabench[hf]' or pip install torch"
            ) from exc
        self.torch = torch
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"device {device!r} is not available", fix="use device='cpu' or run on a machine with CUDA")
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype)

    def asarray(self, x: Any) -> Any:
        if isinstance(x, self.torch.Tensor):
            return x.to(device=self.device, dtype=self.dtype)
        return self.torch.as_tensor(np.asarray(x), dtype=self.dtype, device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, self.torch.Tensor):
            return x.detach().to("cpu", dtype=self.torch.float64).numpy()
        return np.asarray(x, dtype=np.float64)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    def exp(self, x: Any) -> Any:
        return self.torch.exp(x)

    def log(self, x: Any) -> Any:
        return self.torch.log(x)

    def sigmoid(self, x: Any) -> Any:
        return self.torch.sigmoid(x)

    def softplus(self, x: Any) -> Any:
        return self.torch.nn.functional.softplus(x)

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        return self.torch.clamp(x, lo, hi)

    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> Any:
        return self.torch.sum(x) if axis is None else self.torch.sum(x, dim=axis)

    def max(self, x: Any, axis: int) -> Any:
        return self.torch.amax(x, dim=axis, keepdim=True)

    def einsum(self, spec: str, *ops: Any) -> Any:
        return self.torch.einsum(spec, *ops)

    def solve(self, a: Any, b: Any) -> Any:
        return self.torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)

    def cholesky(self, a: Any) -> Any:
        return self.torch.linalg.cholesky(a)

    def sqrt(self, x: Any) -> Any:
        return self.torch.sqrt(x)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        return self.torch.where(c, a, b)

    def with_ones(self, x: Any) -> Any:
        return self.torch.cat([x, self.torch.ones((x.shape[0], 1), dtype=x.dtype, device=x.device)], dim=1)


def get_backend(backend: str = "numpy", device: str = "cpu", precision: str = "float64") -> Backend:
    """Return the backend called ``backend`` (``"numpy"`` or ``"torch"``).

    ``precision`` is the floating type of the large (models × nodes × items)
    passes: ``"float64"`` or ``"float32"`` (about twice as fast; sums that decide
    convergence are still accumulated from these arrays, so use it for large
    matrices where a relative precision of 1e-6 is ample).
    """
    if precision not in ("float64", "float32"):
        raise InputError(f"precision must be 'float64' or 'float32', not {precision!r}")
    if backend == "numpy":
        if device != "cpu":
            raise InputError(f"the numpy backend runs on the CPU only, not {device!r}", fix="use backend='torch'")
        return Backend(np.float64 if precision == "float64" else np.float32)
    if backend == "torch":
        return TorchBackend(device, precision)
    raise InputError(f"unknown backend {backend!r}", fix="use 'numpy' or 'torch'")
