"""Ordinal items: polychoric correlations with their thresholds, and ordinal alpha.

An answer on a Likert scale is read as the category of a latent standard normal variable cut at thresholds; the
polychoric correlation of two items is the correlation of their latent variables. Every figure agrees with R psych
2.2.9 (``polychoric``, ``alpha``) on the same answers: ``tests/test_ordinal.py`` against
``tests/reference/spi/``.

Conventions (psych's ``polychoric(x)`` defaults)
------------------------------------------------
- Thresholds of each item from all its answers: :math:`\\tau_c = \\Phi^{-1}(\\text{share answering at most } c)`
  (``global = TRUE``); a scale point nobody chose gives a repeated or infinite threshold.
- Each correlation from the respondents who answered both items (pairwise), maximizing the likelihood of their
  cross-table given the two items' thresholds (the "two-step" estimator, Olsson 1979), with no correction of empty
  cells (psych corrects them only with ``global = FALSE``).
- Bivariate normal probabilities by Owen's T function, exact to about 1e-15 (psych's ``mnormt::sadmvn`` is a
  numerical integration to 1e-6), and the maximum located to 1e-12 (psych's ``optimize`` stops at about 1e-4): psych's
  own correlations differ from these by up to about 2e-5, the same steps converged tightly in R by less than 1e-7.
- A matrix that is not positive definite is smoothed as psych's ``cor.smooth``: eigenvalues below 1e-12 set to
  1e-10, rescaled to sum to the number of items, back to correlations.

References
----------
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient. Psychometrika 44,
443-460. Owen, D. B. (1956). Tables for computing bivariate normal probabilities. Annals of Mathematical Statistics
27, 1075-1090. Zumbo, B. D., Gadermann, A. M. and Zeisser, C. (2007). Ordinal versions of coefficients alpha and
theta for Likert rating scales. Journal of Modern Applied Statistical Methods 6, 21-29.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

__all__ = ["bivariate_normal_cdf", "Polychoric", "polychoric_correlations", "smooth_correlations", "ordinal_alpha"]

#: The maximum of each pair's likelihood is located to this (scipy's bounded Brent, ``xatol``).
RHO_TOLERANCE = 1e-12


def bivariate_normal_cdf(h, k, rho: float) -> np.ndarray:
    """:math:`\\Phi_2(h, k; \\rho) = P(X \\le h, Y \\le k)` of standard normals with correlation :math:`\\rho`, for
    arrays h and k (which may be infinite), by Owen's T function:

    .. math::
        \\Phi_2 = \\tfrac12\\Phi(h) + \\tfrac12\\Phi(k) - T\\left(h, \\frac{k - \\rho h}{h\\sqrt{1-\\rho^2}}\\right)
                 - T\\left(k, \\frac{h - \\rho k}{k\\sqrt{1-\\rho^2}}\\right) - \\beta

    with :math:`\\beta = 1/2` when h and k have opposite signs (or one is 0 and the other negative), 0 otherwise;
    :math:`T(0, \\pm\\infty) = \\pm 1/4` and :math:`\\Phi_2(0, 0) = 1/4 + \\arcsin(\\rho) / (2\\pi)`.
    """
    h, k = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(h, k))
    finite = np.isfinite(h) & np.isfinite(k)
    # infinite limits: a -inf gives 0, a +inf leaves the other margin
    edge = np.where((h == -np.inf) | (k == -np.inf), 0.0,
                    np.where(h == np.inf, special.ndtr(np.where(k == np.inf, 40.0, k)), special.ndtr(h)))
    hh, kk = np.where(finite, h, 1.0), np.where(finite, k, 1.0)
    root = np.sqrt(1.0 - rho * rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_h = np.where(hh == 0, 0.25 * np.sign(kk), special.owens_t(hh, (kk - rho * hh) / (hh * root)))
        t_k = np.where(kk == 0, 0.25 * np.sign(hh), special.owens_t(kk, (hh - rho * kk) / (kk * root)))
    beta = np.where((hh * kk > 0) | ((hh * kk == 0) & (hh + kk >= 0)), 0.0, 0.5)
    value = 0.5 * special.ndtr(hh) + 0.5 * special.ndtr(kk) - t_h - t_k - beta
    value = np.where((hh == 0) & (kk == 0), 0.25 + np.arcsin(rho) / (2 * np.pi), value)
    return np.where(finite, value, edge)


def _cell_probabilities(rho: float, row_thresholds: np.ndarray, column_thresholds: np.ndarray) -> np.ndarray:
    rows = np.concatenate([[-np.inf], row_thresholds, [np.inf]])
    columns = np.concatenate([[-np.inf], column_thresholds, [np.inf]])
    cdf = bivariate_normal_cdf(rows[:, None], columns[None, :], rho)
    return cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]


def smooth_correlations(correlations: np.ndarray) -> tuple[np.ndarray, bool]:
    """psych's ``cor.smooth``: when the smallest eigenvalue is below machine epsilon, eigenvalues below 1e-12 become
    1e-10, all are rescaled to sum to the order of the matrix, and the rebuilt matrix is turned back into
    correlations. Returns the matrix and whether it was smoothed."""
    values, vectors = np.linalg.eigh(correlations)
    if values.min() >= np.finfo(float).eps:
        return correlations, False
    values = np.where(values < 1e-12, 100 * 1e-12, values)
    values = values * len(values) / values.sum()
    rebuilt = (vectors * values) @ vectors.T
    scale = 1.0 / np.sqrt(np.diag(rebuilt))
    return rebuilt * np.outer(scale, scale), True


@dataclass(frozen=True)
class Polychoric:
    """Output of :func:`polychoric_correlations`.

    Attributes
    ----------
    correlations : DataFrame
        Items by items.
    thresholds : DataFrame
        One row per item, one column ``t<c>`` per threshold between scale points c and c + 1.
    smoothed : bool
        Whether the matrix was not positive definite and was smoothed (:func:`smooth_correlations`).
    """

    correlations: pd.DataFrame
    thresholds: pd.DataFrame
    smoothed: bool


def polychoric_correlations(answers: pd.DataFrame, points) -> Polychoric:
    """Polychoric correlations of ordinal items answered on the scale ``points`` (ascending), with psych's
    ``polychoric(x)`` conventions (module docstring): thresholds from each item's answers, each correlation the
    maximum of :math:`\\sum_{ab} p_{ab} \\ln P_{ab}(\\rho)` over :math:`(-1, 1)`, with :math:`p_{ab}` the
    pair's cross-table as shares and :math:`P_{ab}` the bivariate normal probability of cell (a, b).

    R: ``psych::polychoric(x)$rho`` and ``$tau``.
    """
    points = list(points)
    values = answers.to_numpy(dtype=float)
    codes = np.full(values.shape, -1)
    for position, point in enumerate(points):
        codes[values == point] = position
    n_points, p = len(points), values.shape[1]
    counts = np.stack([np.bincount(codes[codes[:, j] >= 0, j], minlength=n_points) for j in range(p)], axis=1)
    with np.errstate(divide="ignore"):
        tau = special.ndtri(np.cumsum(counts / counts.sum(axis=0), axis=0)[:-1])
    rho = np.eye(p)
    for i in range(1, p):
        for j in range(i):
            both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
            table = np.zeros((n_points, n_points))
            np.add.at(table, (codes[both, i], codes[both, j]), 1.0)
            table /= table.sum()

            def minus_log_likelihood(r, i=i, j=j, table=table):
                cells = _cell_probabilities(r, tau[:, i], tau[:, j])
                kept = cells > 0
                return -np.sum(table[kept] * np.log(cells[kept]))
            best = optimize.minimize_scalar(minus_log_likelihood, bounds=(-1.0, 1.0), method="bounded",
                                            options={"xatol": RHO_TOLERANCE})
            rho[i, j] = rho[j, i] = best.x
    rho, smoothed = smooth_correlations(rho)
    names = list(answers.columns)
    thresholds = pd.DataFrame(tau.T, index=pd.Index(names, name="item"),
                              columns=[f"t{points[c]:g}" for c in range(n_points - 1)])
    return Polychoric(pd.DataFrame(rho, index=names, columns=names), thresholds, smoothed)


def ordinal_alpha(correlations: pd.DataFrame) -> float:
    """Ordinal alpha (Zumbo et al. 2007): Cronbach's alpha of the items' polychoric correlations,
    :math:`\\frac{k}{k-1}(1 - k / \\mathbf 1' R \\mathbf 1)`. R: ``psych::alpha(polychoric(x)$rho)$total$std.alpha``."""
    k = len(correlations)
    return k / (k - 1) * (1.0 - k / correlations.to_numpy().sum())
