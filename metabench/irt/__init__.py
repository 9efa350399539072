"""Item response theory: models, estimation, ability scoring, fit statistics, information.

>>> from metabench.irt import IRT
>>> IRT(model="3pl")
IRT(model='3pl', method='em')
"""

from __future__ import annotations

from metabench.irt.bayes import BayesIRTResult, fit_bayes
from metabench.irt.diagnostics import (
    LRTResult,
    aic,
    bic,
    flag_items,
    flag_persons,
    infit_outfit,
    item_fit,
    likelihood_ratio_test,
    lz_star,
    person_fit,
    person_fit_lz,
)
from metabench.irt.estimate import Priors
from metabench.irt.estimator import AUTO_CANDIDATES, IRT, AbilityScores, default_priors
from metabench.irt.information import (
    empirical_reliability,
    item_information,
    marginal_reliability,
    standard_error,
    test_information,
)
from metabench.irt.models import MODELS, irf

__all__ = [
    "IRT",
    "AbilityScores",
    "AUTO_CANDIDATES",
    "MODELS",
    "Priors",
    "default_priors",
    "irf",
    "fit_bayes",
    "BayesIRTResult",
    "item_information",
    "test_information",
    "standard_error",
    "marginal_reliability",
    "empirical_reliability",
    "person_fit",
    "person_fit_lz",
    "lz_star",
    "item_fit",
    "infit_outfit",
    "flag_items",
    "flag_persons",
    "aic",
    "bic",
    "likelihood_ratio_test",
    "LRTResult",
]
