"""Item response models and their response functions.

Every unidimensional model is a special case of the four-parameter logistic

.. math:: P_j(\\theta) = c_j + (d_j - c_j)\\,\\sigma\\bigl(a_j(\\theta - b_j)\\bigr),

with discrimination :math:`a_j`, difficulty :math:`b_j`, guessing (lower
asymptote) :math:`c_j` and upper asymptote :math:`d_j = 1 - s_j` (slipping
:math:`s_j`). The multidimensional 2PL is compensatory:
:math:`P_j(\\boldsymbol\\theta) = \\sigma(\\mathbf a_j^\\top\\boldsymbol\\theta + \\delta_j)`.

Internally the engine uses the slope–intercept form :math:`z = a\\theta + \\delta`
with :math:`\\delta = -ab`, and logits for the asymptotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metabench.errors import InputError

__all__ = ["ModelSpec", "MODELS", "model_spec", "irf"]

MODELS: tuple[str, ...] = ("1pl", "2pl", "3pl", "4pl", "continuous", "mirt")
"""Model names accepted by :class:`~metabench.irt.IRT` (plus ``"rasch"`` = ``"1pl"`` and ``"auto"``)."""


@dataclass(frozen=True)
class ModelSpec:
    """What an IRT model estimates.

    Attributes
    ----------
    name : str
        Model name.
    n_dims : int
        Latent dimensions D.
    free_slope : bool
        Whether discriminations are estimated (False: all equal 1, Rasch).
    guessing, slipping : bool
        Whether lower / upper asymptotes are estimated.
    continuous : bool
        Scores in [0, 1] are allowed (fractional Bernoulli likelihood).
    """

    name: str
    n_dims: int = 1
    free_slope: bool = True
    guessing: bool = False
    slipping: bool = False
    continuous: bool = False

    @property
    def n_item_params(self) -> int:
        """Free parameters per item."""
        return (self.n_dims if self.free_slope else 0) + 1 + int(self.guessing) + int(self.slipping)

    @property
    def estimates_latent_sd(self) -> bool:
        """The Rasch model estimates the spread of abilities instead of slopes."""
        return not self.free_slope


def model_spec(model: str, n_dims: int = 2) -> ModelSpec:
    """Spec of a named model.

    Examples
    --------
    >>> model_spec("3pl").n_item_params
    3
    >>> model_spec("mirt", n_dims=3).n_item_params
    4
    """
    name = model.lower().strip()
    if name in ("1pl", "rasch"):
        return ModelSpec("1pl", free_slope=False)
    if name == "2pl":
        return ModelSpec("2pl")
    if name == "3pl":
        return ModelSpec("3pl", guessing=True)
    if name == "4pl":
        return ModelSpec("4pl", guessing=True, slipping=True)
    if name == "continuous":
        return ModelSpec("continuous", continuous=True)
    if name == "mirt":
        if int(n_dims) < 2:
            raise InputError(f"a multidimensional model needs n_dims >= 2, got {n_dims}", fix="use model='2pl' for one dimension")
        return ModelSpec("mirt", n_dims=int(n_dims))
    raise InputError(f"unknown IRT model {model!r}", fix=f"choose one of {', '.join(MODELS)}, 'rasch' or 'auto'")


def irf(
    theta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray | None = None,
    d: np.ndarray | None = None,
) -> np.ndarray:
    """Probability of success of each model on each item (unidimensional 1–4PL).

    Parameters
    ----------
    theta : array_like, shape (n,)
        Abilities.
    a, b : array_like, shape (J,)
        Discriminations and difficulties.
    c, d : array_like, shape (J,), optional
        Lower and upper asymptotes (default 0 and 1).

    Returns
    -------
    numpy.ndarray, shape (n, J)

    Examples
    --------
    >>> irf([0.0], [1.0], [0.0]).tolist()
    [[0.5]]
    >>> irf([0.0], [1.0], [0.0], c=[0.2]).round(3).tolist()
    [[0.6]]
    """
    t = np.asarray(theta, dtype=float).reshape(-1, 1)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    s = 1.0 / (1.0 + np.exp(-(a * (t - b))))
    lo = 0.0 if c is None else np.asarray(c, dtype=float)
    hi = 1.0 if d is None else np.asarray(d, dtype=float)
    return lo + (hi - lo) * s
