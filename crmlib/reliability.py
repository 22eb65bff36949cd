"""Reliability of questionnaire scales: Cronbach's alpha, item-total statistics, McDonald's omega total, and
omega hierarchical from the Schmid-Leiman solution.

Every statistic agrees with R psych 2.2.9 (``alpha()``, and ``fa()`` for omega) on
the same data: ``tests/test_reliability.py`` against ``tests/reference/satisfaction/``.

Conventions
-----------
- Items are already in the scale's direction (reverse-keyed items reversed as
  ``min + max - x`` of their declared scale before they get here).
- Missing answers: complete cases of the items passed in (listwise deletion);
  psych's pairwise default gives the same numbers on complete data.
- Covariances and standard deviations use n - 1.
- The scale score is the mean of the items (psych's ``cumulative = FALSE``).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
Psychometrika 16, 297-334. Guttman, L. (1945). A basis for analyzing test-retest
reliability. Psychometrika 10, 255-282. McDonald, R. P. (1999). Test Theory: A
Unified Treatment. Erlbaum. Revelle, W. psych (``alpha``, ``fa``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import factors
from .errors import InputError

__all__ = ["cronbach_alpha", "alpha_interval", "item_total_statistics", "omega_total", "OBLIMIN_TOLERANCE",
           "OmegaHierarchical", "omega_hierarchical"]


def _alpha_parts(cov: np.ndarray, corr: np.ndarray) -> dict[str, float]:
    k = cov.shape[0]
    sum_r = corr.sum()
    smc = 1.0 - 1.0 / np.diag(np.linalg.inv(corr))
    off = corr[np.tril_indices(k, -1)]
    average_r = (sum_r - k) / (k * (k - 1))
    return {
        "raw_alpha": (1.0 - np.trace(cov) / cov.sum()) * k / (k - 1),
        "std_alpha": (1.0 - k / sum_r) * k / (k - 1),
        "g6_smc": 1.0 - (k - smc.sum()) / sum_r,
        "average_r": average_r,
        "signal_noise": k * average_r / (1.0 - average_r),
        "median_r": float(np.median(off)),
    }


def _respondents(items: pd.DataFrame, pairwise: bool) -> pd.DataFrame:
    """The answers the statistics use: every respondent's (``pairwise``: each covariance from those who answered
    both items, psych's default) or those of the respondents who answered every item (listwise)."""
    return items if pairwise else items.dropna()


def _correlations(cov: np.ndarray) -> np.ndarray:
    """The correlations of a covariance matrix, :math:`c_{ij} / \\sqrt{c_{ii} c_{jj}}` (R's ``cov2cor``): under
    pairwise deletion each variance is then the item's over all its answers, as ``psych::alpha`` computes them."""
    scale = 1.0 / np.sqrt(np.diag(cov))
    return cov * np.outer(scale, scale)


def cronbach_alpha(items: pd.DataFrame, pairwise: bool = False) -> pd.DataFrame:
    """Cronbach's alpha of a scale, raw and standardized, with Guttman's lambda 6.

    .. math::
        \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1' C \\mathbf 1}\\right), \\quad
        \\alpha_{std} = \\frac{k}{k-1}\\left(1 - \\frac{k}{\\mathbf 1' R \\mathbf 1}\\right) = \\frac{k \\bar r}{1 + (k-1)\\bar r}

    with C the item covariance and R the item correlation matrix;
    :math:`\\lambda_6 = 1 - \\sum_j (1 - SMC_j) / \\mathbf 1' R \\mathbf 1`.

    Parameters
    ----------
    items : DataFrame
        One column per item (at least two), one row per respondent.
    pairwise : bool
        Covariances and correlations from every pair of answers, the scale score the mean of the answered items
        (psych's default); else the respondents who answered every item.

    Returns
    -------
    DataFrame
        One row: ``n_items``, ``n_respondents``, ``raw_alpha``, ``std_alpha``,
        ``g6_smc``, ``average_r``, ``signal_noise``, ``median_r``, ``mean``,
        ``sd`` (of the scale score, the item mean). Matches ``psych::alpha(x)$total``.
    """
    data = _respondents(items, pairwise)
    cov = data.cov().to_numpy()
    parts = _alpha_parts(cov, _correlations(cov))
    score = data.mean(axis=1).dropna()
    return pd.DataFrame([{"n_items": data.shape[1], "n_respondents": len(score), **parts,
                          "mean": score.mean(), "sd": score.std(ddof=1)}])


def alpha_interval(items: pd.DataFrame, *, replicates: int, confidence: float, seed: int,
                   pairwise: bool = False) -> tuple[float, float]:
    """Percentile bootstrap interval of Cronbach's (raw) alpha: ``replicates`` samples of the respondents
    (every respondent with ``pairwise``, else complete cases), drawn with replacement by NumPy's PCG64 generator
    seeded with ``seed``, the alpha of each (from the sample's covariances, pairwise where answers are missing),
    and their :math:`(1 \\pm confidence) / 2` quantiles (type 7). Fixed-seed results are the same on any machine;
    R has no identical sampler (``psych::alpha(x, n.iter = ...)`` draws with R's), so the tests check the
    interval's coverage on simulated scales instead."""
    x = _respondents(items, pairwise).to_numpy(dtype=float)
    n, k = x.shape
    draws = np.random.default_rng(seed).integers(0, n, size=(replicates, n))
    alphas = np.empty(replicates)
    for start in range(0, replicates, 100):  # 100 replicates at a time: memory of 100 x n x k values
        cov = _pairwise_covariances(x[draws[start:start + 100]])
        alphas[start:start + 100] = k / (k - 1) * (1 - np.trace(cov, axis1=1, axis2=2) / cov.sum(axis=(1, 2)))
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(alphas, [tail, 1 - tail])
    return float(lower), float(upper)


def _pairwise_covariances(samples: np.ndarray) -> np.ndarray:
    """The covariance matrix (n - 1) of each sample (``samples``: samples x rows x items, NaN where an answer is
    missing), each covariance from the rows where both items are answered, with those rows' means (R's
    ``cov(x, use = "pairwise")``); the ordinary covariance matrix of complete samples."""
    observed = ~np.isnan(samples)
    values, weights = np.where(observed, samples, 0.0), observed.astype(float)
    n = np.swapaxes(weights, 1, 2) @ weights
    products = np.swapaxes(values, 1, 2) @ values
    sums = np.swapaxes(values, 1, 2) @ weights  # sum of item i over the rows where j is answered too
    return (products - sums * np.swapaxes(sums, 1, 2) / n) / (n - 1)


def item_total_statistics(items: pd.DataFrame, pairwise: bool = False) -> pd.DataFrame:
    """Per item: correlations with the scale and alpha if the item is deleted.

    Returns
    -------
    DataFrame
        One row per item: ``item``, ``n``, ``mean``, ``sd``; ``raw_r`` (item
        with the scale score), ``std_r`` (the same from correlations),
        ``r_cor`` (corrected for item overlap and reliability: SMCs on the
        diagonal), ``r_drop`` (corrected item-total correlation: item with the
        sum of the *other* items); ``alpha_if_deleted``,
        ``std_alpha_if_deleted``. Matches ``psych::alpha(x)$item.stats``
        (``raw.r``, ``std.r``, ``r.cor``, ``r.drop``) and ``$alpha.drop``; ``pairwise`` as in
        :func:`cronbach_alpha`.
    """
    data = _respondents(items, pairwise)
    cov = data.cov().to_numpy()
    corr = _correlations(cov)
    k = cov.shape[0]
    score = data.mean(axis=1)
    smc = 1.0 - 1.0 / np.diag(np.linalg.inv(corr))
    adjusted = corr.copy()
    np.fill_diagonal(adjusted, smc)
    rows = []
    for i, item in enumerate(data.columns):
        keep = [j for j in range(k) if j != i]
        dropped = _alpha_parts(cov[np.ix_(keep, keep)], corr[np.ix_(keep, keep)]) if k > 2 else None
        rows.append({
            "item": item,
            "n": int(data[item].count()),
            "mean": data[item].mean(),
            "sd": data[item].std(ddof=1),
            "raw_r": data[item].corr(score),  # with the mean of the answered items (psych: cor(total, x, use))
            "std_r": corr[:, i].sum() / np.sqrt(corr.sum()),
            "r_cor": adjusted[:, i].sum() / np.sqrt(adjusted.sum()),
            "r_drop": (cov[:, i].sum() - cov[i, i]) / np.sqrt(cov[i, i] * cov[np.ix_(keep, keep)].sum()),
            "alpha_if_deleted": np.nan if dropped is None else dropped["raw_alpha"],
            "std_alpha_if_deleted": np.nan if dropped is None else dropped["std_alpha"],
        })
    return pd.DataFrame(rows)


def omega_total(items: pd.DataFrame, pairwise: bool = False) -> pd.DataFrame:
    """McDonald's omega total of a unidimensional scale, from a one-factor minres solution.

    .. math:: \\omega_t = \\frac{(\\sum_j \\lambda_j)^2}{(\\sum_j \\lambda_j)^2 + \\sum_j \\psi_j}

    with :math:`\\lambda` the loadings and :math:`\\psi = 1 - h^2` the
    uniquenesses of ``psych::fa(x, nfactors = 1, fm = "minres")``. This is
    omega for a congeneric one-factor model (the "omega total" of each dimension
    taken alone), not psych ``omega()``'s hierarchical Schmid-Leiman solution,
    which needs several group factors. The minres fit is :func:`crmlib.factors.minimum_residual_factoring`,
    converged to 1e-12 (psych stops at R's default optimizer tolerance, about 2e-8 from it for one factor);
    ``pairwise`` correlations as in :func:`cronbach_alpha`.

    Returns
    -------
    DataFrame
        One row: ``n_items``, ``omega_total``, ``sum_loadings``, ``sum_uniquenesses``.
    """
    data = _respondents(items, pairwise)
    fit = factors.minimum_residual_factoring(factors.correlation_matrix(data, pairwise), 1, rotation="none")
    loadings = fit.loadings["F1"].to_numpy()
    uniqueness = fit.communalities["uniqueness"].to_numpy()
    common = loadings.sum() ** 2
    return pd.DataFrame([{"n_items": data.shape[1], "omega_total": common / (common + uniqueness.sum()),
                          "sum_loadings": loadings.sum(), "sum_uniquenesses": uniqueness.sum()}])


#: The oblimin rotation inside :func:`omega_hierarchical` stops when the norm of its projected gradient is below
#: this (GPArotation's and psych's default is 1e-5). Gradient projection converges linearly: 1e-7 is reached in
#: milliseconds, 1e-8 not within 20,000 iterations on six factors of the satisfaction items.
OBLIMIN_TOLERANCE = 1e-7


@dataclass(frozen=True)
class OmegaHierarchical:
    """Output of :func:`omega_hierarchical`.

    Attributes
    ----------
    summary : DataFrame
        One row: ``n_items``, ``n_factors``, ``omega_h``, ``omega_total``, ``omega_limit`` (omega_h over omega
        total), ``alpha`` (standardized, of the items as the general factor keys them), ``ecv`` (explained common
        variance of the general factor), ``items_reversed`` (items keyed negatively on the general factor).
    loadings : DataFrame
        The Schmid-Leiman solution, one row per item: ``item``, ``g``, ``F1*..Fk*`` (group factors), ``h2``,
        ``u2``, ``p2`` (g^2 / h2).
    groups : DataFrame
        psych's ``omega.group``: ``factor`` (``g``, then each group factor), ``total``, ``general``, ``group``.
    """

    summary: pd.DataFrame
    loadings: pd.DataFrame
    groups: pd.DataFrame


def omega_hierarchical(items: pd.DataFrame, n_factors: int, pairwise: bool = False, *,
                       correlations: pd.DataFrame | None = None) -> OmegaHierarchical:
    """McDonald's omega hierarchical and omega total of a questionnaire, by the Schmid-Leiman solution, as
    ``psych::omega(x, nfactors = k)`` computes them (minres, oblimin, ``option = "equal"``, ``flip = TRUE``).

    1. :math:`k` minres factors of the correlation matrix :math:`R` (:func:`crmlib.factors.minimum_residual_factoring`,
       converged to 1e-12), rotated by oblimin (GPArotation's, gamma 0, unnormalized) to the pattern :math:`P` and
       factor correlations :math:`\\Phi`, converged to :data:`OBLIMIN_TOLERANCE`.
    2. The general factor's loadings on the group factors, :math:`\\gamma`: one minres factor of :math:`\\Phi`
       for :math:`k \\ge 3`; for :math:`k = 2`, :math:`\\gamma = (\\sqrt{|\\phi_{12}|},
       \\mathrm{sign}(\\phi_{12})\\sqrt{|\\phi_{12}|})` (psych's ``option = "equal"``: two group factors do
       not identify a general one).
    3. General loadings :math:`g = P \\gamma`; group loadings :math:`P_{ij}\\sqrt{1 - \\gamma_j^2}`;
       :math:`h^2` the communalities of step 1, :math:`u^2 = 1 - h^2`.
    4. Items with a negative general loading are reversed (:math:`R \\to D R D`), and with :math:`V_t =
       \\sum_{ij} R_{ij}`:

    .. math:: \\omega_h = \\frac{(\\sum_i g_i)^2}{V_t}, \\qquad \\omega_t = \\frac{V_t - \\sum_i u^2_i}{V_t}.

    The group factors are ordered by their sums of squared loadings, each summing positive (psych leaves them in
    GPArotation's order). Each item also counts towards the group factor of its largest group loading (psych's
    ``omega.group``). ``correlations``, when given, stand for R (the items' polychoric correlations:
    ``omega(x, k, poly = TRUE)``); otherwise R is computed from ``items``. The
    R call that reproduces it: ``psych::omega(x, nfactors = k)``, to about 1e-5 (its oblimin and minres stop at R's
    default tolerances); converged tightly, to 1e-6 (tests/reference/psych_omega.R).

    Raises
    ------
    InputError
        For fewer than two factors (omega_h needs group factors) or a Heywood case.
    """
    if n_factors < 2:
        raise InputError(f"omega hierarchical needs at least two group factors, not {n_factors}: a questionnaire "
                         "with one dimension has omega total only")
    corr = factors.correlation_matrix(_respondents(items, pairwise), pairwise) if correlations is None else correlations
    fit = factors.minimum_residual_factoring(corr, n_factors, rotation="varimax")
    pattern, phi = factors.oblimin_rotation(fit.loadings.to_numpy(), OBLIMIN_TOLERANCE)
    if n_factors > 2:
        general = factors.minimum_residual_factoring(pd.DataFrame(phi), 1, rotation="none").loadings.to_numpy()[:, 0]
    else:
        root = np.sqrt(abs(phi[0, 1]))
        general = np.array([root, np.sign(phi[0, 1]) * root])
    g = pattern @ general
    group = np.sign(pattern) * np.sqrt(np.maximum(pattern**2 * (1.0 - general**2), 0.0))
    h2 = fit.communalities["communality"].to_numpy()
    u2 = 1.0 - h2
    key = np.where(g < 0, -1.0, 1.0)
    g, group = g * key, group * key[:, None]
    group = group[:, np.argsort(-(group**2).sum(axis=0), kind="stable")]  # psych's order and sign rule
    group = group * np.where(group.sum(axis=0) < 0, -1.0, 1.0)
    r = corr.to_numpy() * np.outer(key, key)
    total, p = r.sum(), len(key)
    common = g.sum() ** 2
    explained = np.concatenate([[np.sum(g**2)], (group**2).sum(axis=0)])
    names = [f"F{j + 1}*" for j in range(n_factors)]
    loadings = pd.DataFrame(group, index=corr.index, columns=names)
    loadings.insert(0, "g", g)
    loadings = loadings.assign(h2=h2, u2=u2, p2=g**2 / h2).rename_axis("item").reset_index()
    member = np.argmax(np.abs(group), axis=1)
    omega_t, rows, squares = (total - u2.sum()) / total, [], 0.0
    for j, name in enumerate(names):
        inside = member == j
        loading, general_part = group[inside, j].sum(), g[inside].sum()
        squares += loading**2
        block = r[np.ix_(inside, inside)].sum() if inside.any() else np.nan  # no item loads most on this factor
        rows.append((name, (loading**2 + general_part**2) / block, general_part**2 / block, loading**2 / block))
    groups = pd.DataFrame([("g", omega_t, common / total, squares / total), *rows],
                          columns=["factor", "total", "general", "group"])
    summary = pd.DataFrame([{"n_items": p, "n_factors": n_factors, "omega_h": common / total,
                             "omega_total": omega_t, "omega_limit": common / (total - u2.sum()),
                             "alpha": (total - p) / total * p / (p - 1), "ecv": explained[0] / explained.sum(),
                             "items_reversed": int((key < 0).sum())}])
    return OmegaHierarchical(summary, loadings, groups)
