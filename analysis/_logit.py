"""R's C logit link functions and the binomial deviance, shared by the intercept-only fit of
``svyciprop(method = "logit")`` (estimators) and ``svyglm`` (glm).

They are written out rather than taken from scipy or statsmodels because R clamps the
linear predictor at |eta| > 30 and floors at DBL_EPSILON; the fitted values and hence the
last digits of the results depend on it.
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(float).eps)
THRESH = 30.0  # R's C logit functions clamp at |eta| > 30


def linkinv(eta: np.ndarray) -> np.ndarray:
    """R's ``logit_linkinv``."""
    inner = np.exp(np.clip(eta, -THRESH, THRESH))
    tmp = np.where(eta < -THRESH, EPS, np.where(eta > THRESH, 1 / EPS, inner))
    return tmp / (1 + tmp)


def mu_eta(eta: np.ndarray) -> np.ndarray:
    """R's ``logit_mu_eta``."""
    e = np.exp(np.clip(eta, -THRESH, THRESH))
    return np.where((eta > THRESH) | (eta < -THRESH), EPS, e / ((1 + e) * (1 + e)))


def ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


def binomial_dev_resids(y: np.ndarray, mu: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """R's ``binomial()$dev.resids``."""
    return 2 * wt * (ylogy(y, mu) + ylogy(1 - y, 1 - mu))
