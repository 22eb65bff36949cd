"""Factor analysis by principal components, as SPSS FACTOR and R's ``psych::principal`` do it, and by minimum
residual, principal axes and maximum likelihood, as ``psych::fa`` does.

Every statistic here is checked against psych 2.2.9 to 1e-6 (``tests/test_factors.py``,
reference files and the R script that wrote them in ``tests/reference/``).

Conventions
-----------
- Correlations are Pearson correlations of complete data (the cleaning stage has
  deleted or imputed missing values, so psych's pairwise default and SPSS's
  listwise default coincide), or, under ``cleaning.missing: pairwise``, of each
  pair's complete rows (``cor(x, use = "pairwise")``); KMO, Bartlett's test and
  parallel analysis then take n = all rows, as psych does, and scores follow
  psych's ``factor.scores(impute = ...)`` (:func:`factor_scores`).
- Extraction: eigen-decomposition of the correlation matrix; loadings are
  eigenvectors times the square root of their eigenvalues.
- Rotation: varimax with Kaiser normalization (rows scaled to unit length before
  rotating and scaled back after), convergence when the criterion grows by less
  than a factor 1 + 1e-5, at most 1000 iterations. This is ``stats::varimax``'s
  default, which ``psych::principal(rotate = "varimax")`` calls, and SPSS's
  default (SPSS stops on a different criterion, so its loadings agree to about
  1e-4, not 1e-6). The algorithm is factor_analyzer's ``Rotator``, an exact
  transcription of ``stats::varimax``. Quartimax: :func:`quartimax_rotation`.
- Sign and order (psych's rule, so results compare with no sign freedom): each
  unrotated column is flipped so its loadings sum to a positive number; after
  rotation columns are ordered by their sums of squared loadings, largest first,
  and flipped again so each sums to a positive number. Factors are named
  ``F1 .. Fk`` in that final order (psych keeps its pre-ordering names, e.g.
  ``RC2, RC1``).
- Scores: regression method, ``W = R^{-1} L`` (the "component score
  coefficient matrix" of SPSS) and ``F = Z W`` with ``Z`` the z-scores of the
  data using the n - 1 standard deviation (R's ``scale``). For principal
  components this is exact, not an estimate.
- KMO and Bartlett's test are computed from the correlation matrix (and n), as
  ``psych::KMO`` and ``psych::cortest.bartlett`` accept it, so that they need no
  data in memory. factor_analyzer's ``FactorAnalyzer(method="principal")`` is
  *not* used: it uses a randomized SVD, does not reorder columns, and scores with
  the n standard deviation.
- At scale (the factor-grading family), the run's engine computes the correlation
  matrix from exact sums (:func:`exact_moments`) and the scores
  (:func:`engine_factor_scores`); the eigen-decomposition and the rotation of the
  p x p matrix run in memory.

References
----------
Revelle, W. psych: Procedures for Psychological, Psychometric, and Personality
Research (``principal``, ``KMO``, ``cortest.bartlett``).
Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor analysis.
Psychometrika 23, 187-200.
Horn, J. L. (1965). A rationale and test for the number of factors in factor
analysis. Psychometrika 30, 179-185.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

import mpmath
import numpy as np
import pandas as pd
from scipy import optimize, stats

from .errors import InputError
from .params import FactorCount

__all__ = [
    "correlation_matrix",
    "pair_counts",
    "oriented_fit",
    "name_factors",
    "condition_number",
    "check_conditioning",
    "KAISER_ADEQUACY",
    "kaiser_adequacy",
    "kmo",
    "bartlett_sphericity",
    "chi_square_log_p",
    "MOMENT_DECIMALS",
    "Moments",
    "exact_moments",
    "eigenvalues",
    "parallel_analysis",
    "number_of_factors",
    "retained_factors",
    "FactorFit",
    "principal_components",
    "OBLIQUE_ROTATIONS",
    "QUARTIMAX_TOLERANCE",
    "oblimin_rotation",
    "quartimax_rotation",
    "squared_multiple_correlations",
    "PAF_TOLERANCE",
    "PAF_MAX_ITERATIONS",
    "principal_axis_factoring",
    "minimum_residual_factoring",
    "ML_LOWER",
    "maximum_likelihood_factoring",
    "likelihood_fit",
    "rmsea_interval",
    "factor_alignment",
    "score_coefficients",
    "factor_scores",
    "scoring_z",
    "scores_of_z",
    "score_coverage",
    "composite_weights",
    "composite_score",
    "total_variance_explained",
    "CompositeFit",
    "IMPUTATIONS",
    "engine_factor_scores",
    "EXTRACTIONS",
    "extract_factors",
    "align_factors",
    "loading_intervals",
    "fit_composite",
    "ExploratoryFactors",
    "exploratory_factor_analysis",
    "item_fit",
]


def correlation_matrix(data: pd.DataFrame, pairwise: bool = False) -> pd.DataFrame:
    """Pearson correlation matrix, labelled by indicator: of complete data, or with ``pairwise`` each correlation
    from the rows where both are observed, with those rows' own means and standard deviations (R's
    ``cor(x, use = "pairwise")``, psych's default)."""
    if pairwise:
        return data.corr(method="pearson")
    return pd.DataFrame(np.corrcoef(data.to_numpy(), rowvar=False), index=data.columns, columns=data.columns)


def pair_counts(data: pd.DataFrame) -> pd.DataFrame:
    """The number of rows where both of two columns are observed, for every pair (``psych::pairwiseCount``)."""
    observed = data.notna().to_numpy(dtype=float)
    return pd.DataFrame(observed.T @ observed, index=data.columns, columns=data.columns).astype(int)


def condition_number(corr: pd.DataFrame) -> float:
    """Ratio of the largest to the smallest eigenvalue of a correlation matrix (inf if singular)."""
    values = np.linalg.eigvalsh(corr.to_numpy())
    return float(values[-1] / values[0]) if values[0] > 0 else float("inf")


def check_conditioning(corr: pd.DataFrame, max_condition: float, *, file=None) -> float:
    """Return the condition number, or raise :class:`InputError` if it exceeds ``max_condition``.

    Notes
    -----
    "Near-singular" means a condition number above ``max_condition`` (default
    1e10). Inverting such a matrix (KMO, score coefficients) loses about
    log10(condition number) of the 16 significant digits of double precision, so
    above 1e10 those statistics are no longer reliable to 1e-6. The message
    names the most correlated pair and the indicators in the near-linear
    dependence (largest entries of the last eigenvector).
    """
    kappa = condition_number(corr)
    if kappa <= max_condition:
        return kappa
    values = corr.to_numpy().copy()
    np.fill_diagonal(values, 0)
    i, j = np.unravel_index(np.argmax(np.abs(values)), values.shape)
    _, vectors = np.linalg.eigh(corr.to_numpy())
    involved = corr.columns[np.abs(vectors[:, 0]) > 0.3].tolist()
    raise InputError(
        f"correlation matrix is singular or near-singular (condition number {kappa:.3g} > "
        f"{max_condition:.3g}): indicators {', '.join(involved)} are almost linearly dependent "
        f"(strongest pair: {corr.columns[i]} and {corr.columns[j]}, r = {values[i, j]:.6f}); "
        "drop or combine one of them",
        file=file,
    )


#: Kaiser's (1974) words for a measure of sampling adequacy: the lower bound of each band, and its word.
KAISER_ADEQUACY = ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"),
                   (0.5, "miserable"), (-np.inf, "unacceptable"))


def kaiser_adequacy(msa: float) -> str:
    """Kaiser's (1974) word for a measure of sampling adequacy (:data:`KAISER_ADEQUACY`): marvelous from 0.9,
    meritorious from 0.8, middling from 0.7, mediocre from 0.6, miserable from 0.5, unacceptable below (the 0.6
    that methods texts often ask for is Kaiser's "mediocre")."""
    return next(word for bound, word in KAISER_ADEQUACY if msa >= bound)


def kmo(corr: pd.DataFrame) -> pd.DataFrame:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, per indicator and overall, from the correlation matrix.

    .. math:: MSA_j = \\frac{\\sum_{i \\ne j} r_{ij}^2}{\\sum_{i \\ne j} r_{ij}^2 + \\sum_{i \\ne j} q_{ij}^2}

    with :math:`q_{ij}` the partial (anti-image) correlations, :math:`R^{-1}` scaled to unit diagonal; overall KMO
    sums over all pairs. As ``psych::KMO(r)``, which takes a correlation matrix or data (``MSAi`` and ``MSA``).

    Returns
    -------
    DataFrame
        Columns ``indicator``, ``msa``, ``adequacy`` (Kaiser's word, :func:`kaiser_adequacy`); the last row has
        indicator ``overall``.
    """
    r = corr.to_numpy()
    inverse = np.linalg.inv(r)
    scale = 1.0 / np.sqrt(np.diag(inverse))
    partial = inverse * np.outer(scale, scale)
    r2, q2 = r ** 2, partial ** 2
    np.fill_diagonal(r2, 0.0)
    np.fill_diagonal(q2, 0.0)
    per_variable = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    overall = r2.sum() / (r2.sum() + q2.sum())
    msa = [*per_variable, overall]
    return pd.DataFrame({"indicator": [*corr.columns, "overall"], "msa": msa,
                         "adequacy": [kaiser_adequacy(value) for value in msa]})


def bartlett_sphericity(corr: pd.DataFrame, n: int) -> pd.DataFrame:
    """Bartlett's test that the correlation matrix of ``n`` customers is the identity.

    .. math:: \\chi^2 = -\\left(n - 1 - \\frac{2p + 5}{6}\\right) \\ln |R|, \\quad df = p(p-1)/2

    Matches ``psych::cortest.bartlett(r, n = n)``. The p value is the exponential of its natural log
    (:func:`chi_square_log_p`), which does not underflow: with many customers the p value itself is below the
    smallest double (about 5e-324) and is 0, as in psych.

    Returns
    -------
    DataFrame
        One row: ``chi_square``, ``df``, ``p_value``, ``log_p_value``, ``n_customers``, ``n_indicators``.
    """
    p = len(corr)
    statistic = -(n - 1 - (2 * p + 5) / 6) * np.linalg.slogdet(corr.to_numpy())[1]
    df = p * (p - 1) // 2
    log_p = chi_square_log_p(statistic, df)
    return pd.DataFrame({"chi_square": [statistic], "df": [df], "p_value": [np.exp(log_p)], "log_p_value": [log_p],
                         "n_customers": [n], "n_indicators": [p]})


def chi_square_log_p(statistic: float, df: float) -> float:
    """Natural log of the upper-tail probability of a chi-square ``statistic`` with ``df`` degrees of freedom,
    :math:`\\ln Q(df/2, x/2)` (the regularized upper incomplete gamma function), computed by mpmath, whose
    numbers have no lower limit, so it is exact where the p value itself underflows to 0 (scipy's
    ``chi2.logsf`` returns -inf there). As R's ``pchisq(x, df, lower.tail = FALSE, log.p = TRUE)``."""
    return float(mpmath.log(mpmath.gammainc(mpmath.mpf(df) / 2, mpmath.mpf(statistic) / 2, mpmath.inf,
                                            regularized=True)))


#: Decimal places the engine keeps of each value it correlates (:func:`exact_moments`).
MOMENT_DECIMALS = 12


@dataclass(frozen=True)
class Moments:
    """Count, means, standard deviations and Pearson correlations of the columns of an engine table
    (:func:`exact_moments`).

    Attributes
    ----------
    n : int
        Rows of the table (under pairwise deletion, every row, as psych counts ``n.obs``).
    means, standard_deviations : Series
        Of each column's observed values; the standard deviations with ``ddof``.
    correlation : DataFrame
    ddof : int
    pair_counts : DataFrame or None
        Under pairwise deletion, the rows where both of two columns are observed (the n of each correlation).
    """

    n: int
    means: pd.Series
    standard_deviations: pd.Series
    correlation: pd.DataFrame
    ddof: int = 1
    pair_counts: pd.DataFrame | None = None


def _scaled_integer(value, places: int) -> int:
    """An engine's exact decimal sum (as text) times ``10**places``, as an integer; 0 for the sum of no values."""
    return 0 if value is None or pd.isna(value) else int(Decimal(str(value)).scaleb(places))


def exact_moments(run, table: str, columns: list[str], ddof: int = 1, pairwise: bool = False) -> Moments:
    """Means, standard deviations (``ddof``) and the Pearson correlation matrix of ``columns`` of engine table
    ``table``, from sums the engine computes exactly.

    Each value is rounded to :data:`MOMENT_DECIMALS` (12) decimal places (``DECIMAL(18, 12)``); the engine sums
    the values :math:`S_j = \\sum x_j` and the cross-products :math:`C_{jk} = \\sum x_j x_k` as decimals, exactly
    (``DECIMAL(38, 24)``), and Python combines them in integers:

    .. math:: r_{jk} = \\frac{n C_{jk} - S_j S_k}{\\sqrt{(n C_{jj} - S_j^2)(n C_{kk} - S_k^2)}}

    Only the last division is in floating point. The matrix is therefore the same on every engine, every run and
    every number of threads, and the one-pass formula loses nothing to cancellation. Meant for z-scores: a value
    must be below 1e6 in magnitude (the z-score of n customers is below sqrt(n)) and the sums of products below 1e14
    (for z-scores, about n). The rounding moves a correlation of z-scores by about 1e-13 / sqrt(n); the result equals
    ``numpy.corrcoef`` (:func:`correlation_matrix`) within 1e-9 (tested; found 1e-15 to 1e-13).

    With ``pairwise`` (missing values as NULL), every sum of the formula for :math:`r_{jk}`, and :math:`n`, is
    taken over the rows where both :math:`x_j` and :math:`x_k` are observed: R's ``cor(x, use = "pairwise")``,
    psych's default, within 1e-9 of pandas' ``DataFrame.corr`` (tested). Means and standard deviations are then of
    each column's observed values (R's ``scale``), ``n`` counts every row, and the pair counts are kept.

    Raises
    ------
    InputError
        When a column is constant (no correlation is defined), or, under ``pairwise``, when two columns are
        observed together for fewer than two rows or one of them is constant on those rows.
    """
    from . import engine
    value = {c: f"CAST(CAST({engine.quote(c)} AS DOUBLE) AS DECIMAL(18, {MOMENT_DECIMALS}))" for c in columns}
    observed = {c: f"{engine.quote(c)} IS NOT NULL" for c in columns}
    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:]]
    terms = [f"SUM({value[a]})" for a in columns] + [f"SUM({value[a]} * {value[a]})" for a in columns]
    terms += [f"COUNT({engine.quote(a)})" for a in columns] + [f"SUM({value[a]} * {value[b]})" for a, b in pairs]
    if pairwise:
        for a, b in pairs:
            terms += [f"SUM(CASE WHEN {observed[a]} AND {observed[b]} THEN 1 ELSE 0 END)",
                      f"SUM(CASE WHEN {observed[b]} THEN {value[a]} END)",
                      f"SUM(CASE WHEN {observed[a]} THEN {value[b]} END)",
                      f"SUM(CASE WHEN {observed[b]} THEN {value[a]} * {value[a]} END)",
                      f"SUM(CASE WHEN {observed[a]} THEN {value[b]} * {value[b]} END)"]
    selected = ", ".join(f"CAST({t} AS VARCHAR) AS m{i}" for i, t in enumerate(terms))
    row = iter(run.query(f"SELECT COUNT(*) AS n, {selected} FROM {table}").iloc[0].tolist())
    n, single, double = int(next(row)), MOMENT_DECIMALS, 2 * MOMENT_DECIMALS
    total = {c: _scaled_integer(next(row), single) for c in columns}
    square = {c: _scaled_integer(next(row), double) for c in columns}
    count = {c: int(next(row)) for c in columns}
    product = {pair: _scaled_integer(next(row), double) for pair in pairs}
    if not pairwise and min(count.values()) < n:
        missing = min(count, key=count.get)
        raise InputError(f"indicator '{missing}' has {n - count[missing]} missing values: give complete data, or "
                         "ask for pairwise deletion (cleaning.missing: pairwise)")
    spread = {c: float(count[c] * square[c] - total[c] ** 2) for c in columns}  # count^2 times the variance
    constant = [c for c in columns if spread[c] <= 0]
    if constant:
        raise InputError(f"indicator '{constant[0]}' is constant: it has no correlation; leave it out of the "
                         "indicators")
    corr, counts = np.eye(len(columns)), np.diag([float(count[c]) for c in columns])
    for (a, b), cross in product.items():
        i, j = columns.index(a), columns.index(b)
        if pairwise:  # the pair's own count, sums and sums of squares
            both, sum_a, sum_b, square_a, square_b = (int(next(row)), _scaled_integer(next(row), single),
                                                      _scaled_integer(next(row), single),
                                                      _scaled_integer(next(row), double),
                                                      _scaled_integer(next(row), double))
            spread_a, spread_b = float(both * square_a - sum_a**2), float(both * square_b - sum_b**2)
            if both < 2 or spread_a <= 0 or spread_b <= 0:
                flat = f", and '{a if spread_a <= 0 else b}' is constant on them" if both >= 2 else ""
                raise InputError(f"indicators '{a}' and '{b}' are observed together for {both} customers{flat}: "
                                 "their correlation is not defined under pairwise deletion; leave one of them out, "
                                 "or impute (cleaning.missing: median or mean)")
        else:
            both, sum_a, sum_b, spread_a, spread_b = n, total[a], total[b], spread[a], spread[b]
        corr[i, j] = corr[j, i] = float(both * cross - sum_a * sum_b) / np.sqrt(spread_a * spread_b)
        counts[i, j] = counts[j, i] = both
    unit = 10.0 ** MOMENT_DECIMALS
    means = pd.Series([total[c] / count[c] / unit for c in columns], index=columns, name="mean")
    sds = pd.Series([np.sqrt(spread[c] / (count[c] * (count[c] - ddof))) / unit for c in columns], index=columns,
                    name="sd")
    pair_counts = pd.DataFrame(counts, index=columns, columns=columns).astype(int) if pairwise else None
    return Moments(n, means, sds, pd.DataFrame(corr, index=columns, columns=columns), ddof, pair_counts)


def eigenvalues(corr: pd.DataFrame) -> pd.Series:
    """Eigenvalues of the correlation matrix, largest first, indexed by component number 1..p."""
    values = np.linalg.eigvalsh(corr.to_numpy())[::-1]
    return pd.Series(values, index=pd.RangeIndex(1, len(values) + 1, name="component"), name="eigenvalue")


def parallel_analysis(n: int, p: int, *, iterations: int, quantile: float, seed: int) -> pd.DataFrame:
    """Horn's parallel analysis for principal components.

    For ``iterations`` random data sets of ``n`` x ``p`` independent standard
    normal values, returns per component the mean and the ``quantile`` of
    their correlation-matrix eigenvalues. A component is retained while its
    observed eigenvalue exceeds the quantile (Glorfeld's 95% variant by
    default). psych's ``fa.parallel`` draws its own random numbers, so its
    values differ within simulation error.

    The data sets are not drawn: their scatter matrix about the column means
    is Wishart(n - 1, I_p) (Anderson 2003, th. 3.3.2), drawn directly by
    Bartlett's decomposition (``scipy.stats.wishart``, NumPy's PCG64 seeded
    with ``seed``) and scaled to unit diagonal. Its eigenvalues have exactly
    the distribution of those of the data sets' correlation matrices, at a
    cost of O(p^3) per draw instead of O(n p^2). Needs ``n > p``.

    The draws depend on the arguments only, so they are computed once per process for each (a run that fits the
    same data several times, :mod:`crmlib.robustness`, pays for them once).

    Returns
    -------
    DataFrame
        Columns ``component``, ``random_mean``, ``random_quantile``.
    """
    return _parallel_draws(n, p, iterations, quantile, seed).copy()


@lru_cache(maxsize=16)
def _parallel_draws(n: int, p: int, iterations: int, quantile: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scatter = stats.wishart(df=n - 1, scale=np.eye(p)).rvs(size=iterations, random_state=rng)
    scatter = np.asarray(scatter).reshape(iterations, p, p)
    scale = np.sqrt(np.einsum("kii->ki", scatter))
    draws = np.linalg.eigvalsh(scatter / scale[:, :, None] / scale[:, None, :])[:, ::-1]
    return pd.DataFrame({"component": np.arange(1, p + 1), "random_mean": draws.mean(axis=0),
                         "random_quantile": np.quantile(draws, quantile, axis=0)})


def number_of_factors(eigen: pd.Series, rule: FactorCount, parallel: pd.DataFrame | None = None) -> int:
    """Number of factors to retain.

    - ``kaiser``: eigenvalues greater than 1 (at least one factor);
    - ``fixed``: ``rule.n``;
    - ``parallel``: leading components whose eigenvalue exceeds the
      ``random_quantile`` of :func:`parallel_analysis` (at least one).
    """
    if rule.rule == "fixed":
        return int(rule.n)
    if rule.rule == "kaiser":
        above = eigen.to_numpy() > 1.0
    else:
        above = eigen.to_numpy() > parallel["random_quantile"].to_numpy()
    leading = int(np.argmin(above)) if not above.all() else len(above)
    return max(leading, 1)


def retained_factors(corr: pd.DataFrame, n_customers: int, rule: FactorCount) -> tuple[int, pd.DataFrame]:
    """Number of factors by ``rule``, and the parallel-analysis table (with the rule's iterations, quantile
    and seed). The table is computed under every rule: the scree plot draws it as a reference line."""
    parallel = parallel_analysis(n_customers, len(corr), iterations=rule.iterations, quantile=rule.quantile,
                                 seed=rule.seed)
    return number_of_factors(eigenvalues(corr), rule, parallel), parallel


@dataclass(frozen=True)
class FactorFit:
    """One factor fit, by principal components (:func:`principal_components`), minimum residual
    (:func:`minimum_residual_factoring`), principal axes (:func:`principal_axis_factoring`) or maximum likelihood
    (:func:`maximum_likelihood_factoring`); every field is a labelled DataFrame or Series.

    Attributes
    ----------
    eigenvalues : Series
        All p eigenvalues of the correlation matrix, largest first.
    unrotated_loadings : DataFrame
        indicator x ``C1..Ck``: the component matrix before rotation (psych sign rule).
    loadings : DataFrame
        indicator x ``F1..Fk``: rotated loadings (equal to the unrotated ones
        when ``rotation="none"`` or k = 1), psych's order and sign.
    rotation_matrix : DataFrame
        ``C1..Ck`` x ``F1..Fk``: ``loadings = unrotated_loadings @ rotation_matrix``
        (SPSS's "component transformation matrix").
    communalities : DataFrame
        ``indicator``, ``communality`` (row sum of squared loadings), ``uniqueness``.
    variance : DataFrame
        One row per factor: ``factor``, ``ss_loadings``, ``proportion_var``,
        ``cumulative_var``, ``proportion_explained``, ``cumulative_proportion``
        (psych's ``Vaccounted``).
    score_coefficients : DataFrame
        indicator x ``F1..Fk``: ``W = R^{-1} S`` (regression method; ``S`` the structure matrix, the loadings of
        orthogonal factors).
    correlation : DataFrame
        The correlation matrix the fit was made from.
    factor_correlations : DataFrame or None
        ``F1..Fk`` x ``F1..Fk``, the factors' correlations :math:`\\Phi` of an oblique rotation (promax,
        oblimin); ``None`` for orthogonal factors. ``loadings`` are then the pattern matrix.
    """

    eigenvalues: pd.Series
    unrotated_loadings: pd.DataFrame
    loadings: pd.DataFrame
    rotation_matrix: pd.DataFrame
    communalities: pd.DataFrame
    variance: pd.DataFrame
    score_coefficients: pd.DataFrame
    correlation: pd.DataFrame
    factor_correlations: pd.DataFrame | None = None

    @property
    def n_factors(self) -> int:
        return self.loadings.shape[1]

    @property
    def structure(self) -> pd.DataFrame:
        """The structure matrix, each indicator's correlation with each factor: :math:`S = P \\Phi` (the loadings
        of orthogonal factors)."""
        return self.loadings if self.factor_correlations is None else self.loadings @ self.factor_correlations


def _rotator(**settings):
    """factor_analyzer's ``Rotator`` (imported when a rotation is asked for: factor_analyzer imports scikit-learn,
    which a stage that rotates nothing need not load)."""
    from factor_analyzer.rotator import Rotator
    return Rotator(**settings)


def oblimin_rotation(loadings: np.ndarray, tolerance: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Oblimin (gamma 0, unnormalized: GPArotation's ``oblimin``, which psych calls) of ``loadings`` by gradient
    projection from them as the start, until the projected gradient's norm is below ``tolerance`` (GPArotation's
    default 1e-5); returns the pattern and the factors' correlations, in the rotation's own column order."""
    rotator = _rotator(method="oblimin", tol=tolerance, max_iter=20_000)
    return rotator.fit_transform(loadings), rotator.phi_


#: The oblique rotations (factor_analyzer's ``Rotator``, as psych rotates: promax after varimax with Kaiser
#: normalization, power 4; oblimin with gamma 0, GPArotation's, unnormalized).
OBLIQUE_ROTATIONS = ("promax", "oblimin")

#: Quartimax's plane rotations stop when a sweep over every pair of factors turns none by more than this (radians).
QUARTIMAX_TOLERANCE = 1e-14


def quartimax_rotation(loadings: np.ndarray, kaiser_normalization: bool = True) -> np.ndarray:
    """The orthogonal matrix :math:`T` maximizing the quartimax criterion :math:`\\sum_{ij} b_{ij}^4` of
    :math:`B = A T`, with :math:`A` the loadings, each row divided by its length when ``kaiser_normalization``
    (Kaiser's normalization, SPSS's default for every rotation).

    Found by plane rotations, one pair of factors at a time (Neuhaus and Wrigley 1954): turning the pair's columns
    :math:`(x, y)` by the angle :math:`t` changes the criterion by :math:`\\frac14 \\sum_i r_i^4 \\cos 4(a_i - t)`
    (:math:`x_i + i y_i = r_i e^{i a_i}`), largest at :math:`t = \\arg(\\sum_i (x_i + i y_i)^4) / 4`, exactly; the
    sweeps stop when no angle exceeds :data:`QUARTIMAX_TOLERANCE`. With two factors one turn is the maximum.

    Notes
    -----
    psych's ``principal(x, k, rotate = "quartimax")`` and ``fa(...)`` call ``GPArotation::quartimax(L)``: no
    Kaiser normalization (set ``kaiser_normalization: false`` to compare) and gradient projection stopped at a
    gradient norm of 1e-5, within about 1e-6 of this maximum in the loadings (its Armijo step test cannot
    tighten much below that in double precision). SPSS normalizes by default.
    """
    a = np.asarray(loadings, dtype=float)
    length = np.sqrt((a**2).sum(axis=1)) if kaiser_normalization else np.ones(len(a))
    b = a / length[:, None]
    k = b.shape[1]
    transform = np.eye(k)
    for _ in range(1000):
        largest = 0.0
        for i in range(k - 1):
            for j in range(i + 1, k):
                angle = np.angle(((b[:, i] + 1j * b[:, j]) ** 4).sum()) / 4
                cos, sin = np.cos(angle), np.sin(angle)
                plane = np.array([[cos, -sin], [sin, cos]])
                b[:, [i, j]] = b[:, [i, j]] @ plane
                transform[:, [i, j]] = transform[:, [i, j]] @ plane
                largest = max(largest, abs(angle))
        if largest <= QUARTIMAX_TOLERANCE:
            return transform
    raise InputError("the quartimax rotation did not converge in 1000 sweeps: use rotation: varimax")


def _positive_column_sums(matrix: np.ndarray) -> np.ndarray:
    signs = np.sign(matrix.sum(axis=0))
    signs[signs == 0] = 1.0
    return signs


def principal_components(corr: pd.DataFrame, n_factors: int, *, rotation: str = "varimax",
                         kaiser_normalization: bool = True) -> FactorFit:
    """Principal-component extraction, optional varimax rotation, and score coefficients.

    Parameters
    ----------
    corr : DataFrame
        Correlation matrix, labelled by indicator (see :func:`correlation_matrix`).
    n_factors : int
        Number of components to keep, 1 <= k <= p.
    rotation : {"varimax", "none"}
    kaiser_normalization : bool
        Rotate row-normalized loadings (SPSS and psych default).

    Notes
    -----
    Equivalent R call::

        psych::principal(x, nfactors = k, rotate = "varimax", scores = TRUE)

    See the module docstring for the sign and order rule. Eigenvalues below
    machine epsilon are raised to it before taking square roots, as psych does.
    """
    values, vectors = _eigen_descending(corr.to_numpy())
    clipped = np.maximum(values, np.finfo(float).eps)
    unrotated = vectors[:, :n_factors] * np.sqrt(clipped[:n_factors])
    return _rotated_fit(corr, values, unrotated, rotation, kaiser_normalization)


def squared_multiple_correlations(corr: pd.DataFrame) -> pd.Series:
    """Each indicator's squared multiple correlation with the others, :math:`1 - 1 / (R^{-1})_{jj}`, the
    starting communalities of principal axis factoring (``psych::smc(r)``)."""
    return pd.Series(1.0 - 1.0 / np.diag(np.linalg.inv(corr.to_numpy())), index=corr.index, name="smc")


#: Principal axis factoring stops when no communality changes by more than this in an iteration
#: (:func:`principal_axis_factoring`).
PAF_TOLERANCE = 1e-12
#: ... or after this many iterations, an error.
PAF_MAX_ITERATIONS = 100_000


def _iterated_principal_axes(corr: pd.DataFrame, n_factors: int, method: str, file=None) -> np.ndarray:
    """The unrotated loadings at the fixed point of principal-axis iteration (:func:`principal_axis_factoring`);
    errors name ``method``."""
    r = corr.to_numpy()
    reduced = r.copy()
    communality = squared_multiple_correlations(corr).to_numpy()
    for _ in range(PAF_MAX_ITERATIONS):
        np.fill_diagonal(reduced, communality)
        values, vectors = _eigen_descending(reduced)
        loadings = vectors[:, :n_factors] * np.sqrt(np.maximum(values[:n_factors], 0.0))
        updated = (loadings**2).sum(axis=1)
        if (updated >= 1.0).any():
            indicator = corr.index[int(np.argmax(updated))]
            raise InputError(f"{method} with {n_factors} factors gives indicator '{indicator}' a communality of "
                             f"{updated.max():.4f}, at least 1 (a Heywood case: no unique variance left): retain "
                             "fewer factors, or use extraction: principal", file=file)
        change = np.abs(updated - communality).max()
        communality = updated
        if change <= PAF_TOLERANCE:
            return loadings
    raise InputError(f"{method} did not converge in {PAF_MAX_ITERATIONS} iterations: retain fewer factors, or use "
                     "extraction: principal", file=file)


def principal_axis_factoring(corr: pd.DataFrame, n_factors: int, *, rotation: str = "varimax",
                             kaiser_normalization: bool = True, file=None) -> FactorFit:
    """Principal axis factoring (what SPSS calls PAF), optional varimax rotation, and score coefficients.

    The diagonal of the correlation matrix is replaced by communalities :math:`h^2`, starting from the squared
    multiple correlations (:func:`squared_multiple_correlations`); the loadings are the first k eigenvectors of
    that reduced matrix times the square roots of their eigenvalues, and the communalities the row sums of the
    squared loadings, put back on the diagonal until no communality changes by more than
    :data:`PAF_TOLERANCE` (1e-12). Then the rotation, sign and order rules and the regression score
    coefficients :math:`W = R^{-1} L` (Thurstone's, ``psych::factor.scores``' default) as in
    :func:`principal_components`; ``eigenvalues`` are those of the correlation matrix itself (SPSS's "initial
    eigenvalues").

    Notes
    -----
    Equivalent R call, converged as tightly (psych's default stops when the sum of the communalities changes
    by less than 0.001, at most 50 iterations: its loadings are then about 1e-4 from the fixed point)::

        psych::fa(x, nfactors = k, fm = "pa", rotate = "varimax", scores = "regression",
                  min.err = 1e-13, max.iter = 1e5)

    SPSS's PAF starts from the same squared multiple correlations but stops when no communality changes by
    more than 0.001, after at most 25 iterations (``/CRITERIA ITERATE(25) ECONVERGE(.001)``): its loadings agree
    with these to about 1e-3; rerun SPSS with ``ECONVERGE(1E-12)`` to compare closely.

    Raises
    ------
    InputError
        When a communality reaches 1 (a Heywood case: an indicator fully explained by the factors, so its
        unique variance would be 0 or negative) or the iterations do not converge.
    """
    loadings = _iterated_principal_axes(corr, n_factors, "principal axis factoring", file)
    return _rotated_fit(corr, _eigen_descending(corr.to_numpy())[0], loadings, rotation, kaiser_normalization)


def minimum_residual_factoring(corr: pd.DataFrame, n_factors: int, *, rotation: str = "varimax",
                               kaiser_normalization: bool = True, file=None) -> FactorFit:
    """Minimum residual factoring (minres, psych's default; unweighted least squares), optional varimax rotation,
    and score coefficients.

    The uniquenesses :math:`\\Psi` minimize psych's minres discrepancy, the sum of the squared off-diagonal
    residuals :math:`\\sum_{i > j} (r_{ij} - (L L')_{ij})^2` with :math:`L` the first k principal axes of
    :math:`R - \\Psi`. At its minimum the residuals' diagonal is zero too, so the minimum is the fixed point of
    principal-axis iteration (Harman and Jones 1966): computed here as that fixed point, iterated until no
    communality changes by more than :data:`PAF_TOLERANCE` (1e-12), where the discrepancy's gradient vanishes
    (tested). Rotation, sign and order rules and score coefficients as in :func:`principal_axis_factoring`.

    Notes
    -----
    Equivalent R call::

        psych::fa(x, nfactors = k, fm = "minres", rotate = "varimax")

    psych minimizes the discrepancy by L-BFGS-B at R's default tolerance and passes no tolerance on: its
    loadings are about 1.5e-5 from the minimum. Converged tightly, they are those of
    ``psych::fa(x, k, fm = "pa", min.err = 1e-13, max.iter = 1e5)``, to which these are compared to 1e-6.

    Raises
    ------
    InputError
        At a Heywood case (a communality reaching 1; psych then returns a solution at its bound of 0.005 for the
        uniqueness, with a warning) or when the iterations do not converge.
    """
    loadings = _iterated_principal_axes(corr, n_factors, "minimum residual factoring", file)
    return _rotated_fit(corr, _eigen_descending(corr.to_numpy())[0], loadings, rotation, kaiser_normalization)


#: Smallest uniqueness maximum likelihood factoring allows (``stats::factanal``'s and psych's ``lower``).
ML_LOWER = 0.005


def maximum_likelihood_factoring(corr: pd.DataFrame, n_factors: int, *, rotation: str = "varimax",
                                 kaiser_normalization: bool = True, file=None) -> FactorFit:
    """Maximum likelihood factor analysis, optional varimax rotation, and score coefficients.

    The uniquenesses :math:`\\Psi` minimize the ML discrepancy
    :math:`F = \\operatorname{tr}(\\Sigma^{-1} R) - \\ln|\\Sigma^{-1} R| - p` of the model
    :math:`\\Sigma = L L' + \\Psi`, found, as ``stats::factanal`` and ``psych::fa(fm = "ml")`` find them, as
    :math:`-\\sum_{j > k} (\\ln e_j - e_j) - k + p` over the smallest eigenvalues :math:`e_j` of
    :math:`\\Psi^{-1/2} R \\Psi^{-1/2}`, by L-BFGS-B (scipy) from
    :math:`\\Psi_0 = (1 - k / 2p) / \\operatorname{diag}(R^{-1})` within :math:`[0.005, 1]`, to scipy's finest
    tolerances; the loadings are :math:`\\Psi^{1/2} V_k (E_k - 1)^{1/2}`. Then the rotation, sign and order rules
    and the regression score coefficients as in :func:`principal_components`. Fit statistics:
    :func:`likelihood_fit`.

    Notes
    -----
    Equivalent R call, converged as tightly (psych's ``fa(fm = "ml")`` runs the same optimizer at R's default
    tolerance, about 5e-7 from this solution in loadings, and does not pass a tolerance on)::

        factanal(covmat = r, factors = k, n.obs = n, rotation = "none",
                 control = list(lower = 0.005, opt = list(factr = 1, pgtol = 0, maxit = 1e5)))

    Raises
    ------
    InputError
        When a uniqueness ends at the lower bound (a Heywood case) or the optimizer does not converge.
    """
    r = corr.to_numpy()
    p, k = len(r), n_factors

    def reduced(psi):
        scale = 1.0 / np.sqrt(psi)
        return _eigen_descending(r * np.outer(scale, scale))

    def discrepancy(psi):
        rest = reduced(psi)[0][k:]
        return -(np.sum(np.log(rest) - rest) - k + p)

    def loadings_of(psi):
        values, vectors = reduced(psi)
        return np.sqrt(psi)[:, None] * vectors[:, :k] * np.sqrt(np.maximum(values[:k] - 1.0, 0.0))

    def gradient(psi):
        loadings = loadings_of(psi)
        return (np.diag(loadings @ loadings.T) + psi - np.diag(r)) / psi**2

    start = (1.0 - 0.5 * k / p) / np.diag(np.linalg.inv(r))
    result = optimize.minimize(discrepancy, start, jac=gradient, method="L-BFGS-B", bounds=[(ML_LOWER, 1.0)] * p,
                               options={"ftol": 0.0, "gtol": 0.0, "maxiter": 100_000, "maxcor": 20})
    if result.nit >= 100_000:
        raise InputError("maximum likelihood factoring did not converge: retain fewer factors, or use extraction: "
                         "principal", file=file)
    if (result.x <= ML_LOWER * (1 + 1e-9)).any():
        indicator = corr.index[int(np.argmin(result.x))]
        raise InputError(f"maximum likelihood factoring with {k} factors leaves indicator '{indicator}' no unique "
                         f"variance (uniqueness at the lower bound {ML_LOWER}: a Heywood case): retain fewer factors, "
                         "or use extraction: principal", file=file)
    return _rotated_fit(corr, _eigen_descending(r)[0], loadings_of(result.x), rotation, kaiser_normalization)


def likelihood_fit(corr: pd.DataFrame, loadings: pd.DataFrame, n: int, confidence: float = 0.9) -> pd.DataFrame:
    """The fit of a k-factor model with ``loadings`` (orthogonal) to the correlation matrix of ``n`` customers,
    as ``psych::fa.stats`` prints it for a maximum likelihood fit.

    With the model :math:`M = L L'` on unit diagonal: the discrepancy
    :math:`F = \\operatorname{tr}(M^{-1} R) - \\ln|M^{-1} R| - p`; the chi-square
    :math:`F \\,(n - 1 - (2p + 5)/6 - 2k/3)` (Bartlett's correction) on
    :math:`df = p(p - 1)/2 - pk + k(k - 1)/2` degrees of freedom, its p value and log p value; Tucker-Lewis
    :math:`TLI = (M_0 - M_m) / (M_0 - 1/\\nu)` with :math:`M_0 = F_0 / (p(p-1)/2)`, :math:`F_0 = -\\ln|R|` the
    null model's discrepancy, :math:`M_m = F / df` and :math:`\\nu` the correction factor above; RMSEA
    :math:`\\sqrt{\\max(\\chi^2 / (df\\, n) - 1/(n - 1), 0)}` (psych's form, ``n`` in the first term) with its
    ``confidence`` interval (:func:`rmsea_interval`); BIC :math:`\\chi^2 - df \\ln n`.

    Returns
    -------
    DataFrame
        One row: ``objective``, ``chi_square``, ``df``, ``p_value``, ``log_p_value``, ``null_chi_square``,
        ``null_df``, ``tli``, ``rmsea``, ``rmsea_lower``, ``rmsea_upper``, ``bic``, ``n_customers``.
    """
    r, l = corr.to_numpy(), loadings.to_numpy()
    p, k = l.shape
    model = l @ l.T
    np.fill_diagonal(model, np.diag(r))
    ratio = np.linalg.solve(model, r)
    objective = np.trace(ratio) - np.linalg.slogdet(ratio)[1] - p
    df = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    correction = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    chi_square = objective * correction
    null = -np.linalg.slogdet(r)[1]
    null_df = p * (p - 1) / 2
    log_p = chi_square_log_p(chi_square, df)
    tli = (null / null_df - objective / df) / (null / null_df - 1 / correction)
    return pd.DataFrame({"objective": [objective], "chi_square": [chi_square], "df": [df],
                         "p_value": [np.exp(log_p)], "log_p_value": [log_p],
                         "null_chi_square": [null * ((n - 1) - (2 * p + 5) / 6)], "null_df": [null_df],
                         "tli": [tli], "rmsea": [np.sqrt(max(chi_square / (df * n) - 1 / (n - 1), 0.0))],
                         **dict(zip(["rmsea_lower", "rmsea_upper"],
                                    ([bound] for bound in rmsea_interval(chi_square, df, n, confidence)))),
                         "bic": [chi_square - df * np.log(n)], "n_customers": [n]})


def rmsea_interval(chi_square: float, df: float, n: int, confidence: float = 0.9, *, divisor: float | None = None
                   ) -> tuple[float, float]:
    """The ``confidence`` interval of the RMSEA of a model's ``chi_square`` on ``df`` degrees of freedom and ``n``
    customers: :math:`\\sqrt{\\lambda / (d\\, df)}`, d = ``divisor`` (n - 1 unless given; lavaan's is n), for the
    noncentrality :math:`\\lambda` at which the
    observed chi-square is the :math:`1 - a/2` (lower bound) or :math:`a/2` (upper bound) quantile of the
    noncentral chi-square, :math:`a = 1 - confidence`; 0 where even :math:`\\lambda = 0` puts it below. As
    ``psych::fa.stats``, whose root search stops at a tolerance of about 1e-4 and looks no further than
    :math:`\\lambda = n` (beyond, psych gives NA); here the root is found to 1e-12 with no such limit."""
    tail = (1.0 - confidence) / 2

    def bound(level):
        if stats.chi2.cdf(chi_square, df) <= level:
            return 0.0
        high = max(float(n), 2.0 * chi_square)
        root = optimize.brentq(lambda nc: stats.ncx2.cdf(chi_square, df, nc) - level, 0.0, high, xtol=1e-12,
                               rtol=1e-15)
        return float(np.sqrt(root / (n - 1 if divisor is None else divisor) / df))
    return bound(1.0 - tail), bound(tail)


def _eigen_descending(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(matrix)
    return values[::-1], vectors[:, ::-1]


def _rotated_fit(corr: pd.DataFrame, eigen: np.ndarray, unrotated: np.ndarray, rotation: str,
                 kaiser_normalization: bool) -> FactorFit:
    """The fit from the unrotated loadings: psych's sign rule, varimax (or none), psych's order and sign again,
    communalities, variance explained and the regression score coefficients."""
    n_factors = unrotated.shape[1]
    unrotated = unrotated * _positive_column_sums(unrotated)
    phi = None
    if rotation == "varimax" and n_factors > 1:
        rotator = _rotator(method="varimax", normalize=kaiser_normalization, max_iter=1000, tol=1e-5)
        rotated = rotator.fit_transform(unrotated)
        transform = rotator.rotation_
    elif rotation == "quartimax" and n_factors > 1:
        transform = quartimax_rotation(unrotated, kaiser_normalization)
        rotated = unrotated @ transform
    elif rotation in OBLIQUE_ROTATIONS and n_factors > 1:
        rotator = _rotator(method=rotation)  # psych's: promax after varimax with Kaiser normalization, oblimin without
        rotated = rotator.fit_transform(unrotated)
        phi = rotator.phi_
        transform = np.linalg.lstsq(unrotated, rotated, rcond=None)[0]
    else:
        rotated, transform = unrotated.copy(), np.eye(n_factors)
    if phi is None:
        structure = rotated
    else:
        structure = rotated @ phi
    order = np.argsort(-(rotated * structure).sum(axis=0), kind="stable")
    signs = _positive_column_sums(rotated[:, order])
    rotated, transform = rotated[:, order] * signs, transform[:, order] * signs
    structure = structure[:, order] * signs
    if phi is not None:
        phi = phi[np.ix_(order, order)] * np.outer(signs, signs)

    indicators = corr.index
    components = [f"C{j + 1}" for j in range(n_factors)]
    factors = [f"F{j + 1}" for j in range(n_factors)]
    loadings = pd.DataFrame(rotated, index=indicators, columns=factors)
    correlations = None if phi is None else pd.DataFrame(phi, index=factors, columns=factors)
    communality = (rotated * structure).sum(axis=1)
    ss = (rotated * structure).sum(axis=0)
    p = len(indicators)
    variance = pd.DataFrame({
        "factor": factors,
        "ss_loadings": ss,
        "proportion_var": ss / p,
        "cumulative_var": np.cumsum(ss / p),
        "proportion_explained": ss / ss.sum(),
        "cumulative_proportion": np.cumsum(ss / ss.sum()),
    })
    return FactorFit(
        eigenvalues=pd.Series(eigen, index=pd.RangeIndex(1, p + 1, name="component"), name="eigenvalue"),
        unrotated_loadings=pd.DataFrame(unrotated, index=indicators, columns=components),
        loadings=loadings,
        rotation_matrix=pd.DataFrame(transform, index=components, columns=factors),
        communalities=pd.DataFrame({"indicator": indicators, "communality": communality,
                                    "uniqueness": 1.0 - communality}),
        variance=variance,
        score_coefficients=score_coefficients(corr, loadings, factor_correlations=correlations),
        correlation=corr,
        factor_correlations=correlations,
    )


def _symmetric_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix`` (symmetric, positive definite) to ``power`` through its eigen-decomposition, as psych's
    ``matSqrt`` and ``invMatSqrt``."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * values**power) @ vectors.T


def score_coefficients(corr: pd.DataFrame, loadings: pd.DataFrame, method: str = "regression",
                       factor_correlations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Factor-score coefficients :math:`W` (scores :math:`F = Z W` of the z-scores :math:`Z`) of orthogonal
    factors with loadings :math:`L`, by ``method``, with :math:`U^2 = \\operatorname{diag}(1 - h^2)` the
    uniquenesses:

    - ``regression`` (Thurstone): :math:`W = R^{-1} L`;
    - ``bartlett``: :math:`W = U^{-2} L (L' U^{-2} L)^{-1}` (unbiased: each factor's score has expectation the
      factor);
    - ``anderson_rubin``: :math:`W = U^{-2} L (L' U^{-2} R U^{-2} L)^{-1/2}` (uncorrelated scores of unit
      variance);
    - ``ten_berge``: :math:`W = R^{-1} L (L' R^{-1} L)^{-1/2}` (scores correlating as the factors, here not at
      all).

    Matrix square roots are taken through eigen-decompositions. As ``psych::factor.scores(r, L, method =
    "Thurstone" / "Bartlett" / "Anderson" / "tenBerge")$weights`` given the loadings as a matrix (given a
    one-factor fit object instead, psych scores every method as regression).

    Oblique factors (``factor_correlations`` :math:`\\Phi`, ``loadings`` the pattern :math:`P`): regression
    :math:`W = R^{-1} P \\Phi` (the structure matrix), Bartlett's with :math:`L = P` and the uniquenesses
    :math:`1 - \\operatorname{diag}(P \\Phi P')`, as ``psych::factor.scores(r, P, Phi = Phi, ...)``;
    Anderson-Rubin's and ten Berge's assume orthogonal factors here and are refused for oblique ones.
    """
    r, l = corr.to_numpy(), loadings.to_numpy()
    if factor_correlations is not None:
        if method not in ("regression", "bartlett"):
            raise ValueError(f"{method} scores of oblique factors: use regression or bartlett")
        phi = factor_correlations.to_numpy()
        if method == "regression":
            return pd.DataFrame(np.linalg.solve(r, l @ phi), index=loadings.index, columns=loadings.columns)
        scaled = l / (1.0 - ((l @ phi) * l).sum(axis=1))[:, None]
        return pd.DataFrame(scaled @ np.linalg.inv(scaled.T @ l), index=loadings.index, columns=loadings.columns)
    if method == "regression":
        weights = np.linalg.solve(r, l)
    elif method == "ten_berge":
        r_inverse_l = np.linalg.solve(r, l)
        weights = r_inverse_l @ _symmetric_power(l.T @ r_inverse_l, -0.5)
    else:
        scaled = l / (1.0 - (l**2).sum(axis=1))[:, None]  # U^-2 L
        middle = scaled.T @ l if method == "bartlett" else scaled.T @ r @ scaled
        weights = scaled @ (np.linalg.inv(middle) if method == "bartlett" else _symmetric_power(middle, -0.5))
    return pd.DataFrame(weights, index=loadings.index, columns=loadings.columns)


#: How a customer with a missing indicator is scored under pairwise deletion (psych::factor.scores' ``impute``).
IMPUTATIONS = ("none", "mean", "median")


def factor_scores(data: pd.DataFrame, fit: FactorFit, ddof: int = 1, impute: str = "none") -> pd.DataFrame:
    """Factor scores :math:`F = Z W`, ``W`` = ``fit.score_coefficients`` (the fit's score method).

    ``Z`` are the z-scores of ``data`` with the ``ddof`` standard deviation (1, as R's ``scale`` and psych's
    ``principal(scores=TRUE)``). Each score has mean 0 and, for principal components with ``ddof=1``, variance 1.

    Missing values (pairwise deletion) are scored as ``psych::factor.scores(x, f, missing = TRUE, impute = ...)``
    scores them:

    - ``none``: a row with a missing value has no scores (NaN), as ``scale(x) %*% w``;
    - ``mean`` or ``median``: each missing value is replaced by its column's mean or median of the observed
      values, every column is standardized again, and each score column :math:`Z W` is standardized (mean 0, the
      ``ddof`` standard deviation): psych's ``factorScoresSapa`` takes the mean over the items,
      :math:`Z W / p`, then ``scale()``s it, and the scaling cancels the :math:`1/p`.
    """
    return scores_of_z(scoring_z(data, ddof, impute), fit, ddof, impute)


def scoring_z(data: pd.DataFrame, ddof: int = 1, impute: str = "none") -> pd.DataFrame:
    """The z-scores :func:`factor_scores` weighs: missing values filled by ``impute`` (``mean`` or ``median`` of the
    observed values; ``none`` leaves them), then each column standardized with the ``ddof`` standard deviation. They
    do not depend on the fit: a bootstrap scoring every customer by each sample's fit computes them once."""
    if impute != "none":
        data = data.fillna(data.mean() if impute == "mean" else data.median())
    return (data - data.mean()) / data.std(ddof=ddof)


def scores_of_z(z: pd.DataFrame, fit: FactorFit, ddof: int = 1, impute: str = "none") -> pd.DataFrame:
    """:func:`factor_scores` from its :func:`scoring_z` ``z``: :math:`Z W`, each score column standardized again
    (the ``ddof`` standard deviation) when missing values were imputed."""
    scores = pd.DataFrame(z.to_numpy() @ fit.score_coefficients.to_numpy(), index=z.index,
                          columns=fit.score_coefficients.columns)
    if impute != "none":
        scores = (scores - scores.mean()) / scores.std(ddof=ddof)
    return scores


def score_coverage(customers: int, complete: int, impute: str) -> pd.DataFrame:
    """How the ``customers`` of a factor analysis under pairwise deletion were scored: the ``complete`` ones (every
    indicator observed) as usual, the others filled (``impute`` mean or median) or left without a score
    (``impute: none``).

    Returns
    -------
    DataFrame
        One row: ``customers``, ``complete``, ``with_missing``, ``impute``, ``imputed``, ``unscored``.
    """
    missing = customers - complete
    return pd.DataFrame({"customers": [customers], "complete": [complete], "with_missing": [missing],
                         "impute": [impute], "imputed": [0 if impute == "none" else missing],
                         "unscored": [missing if impute == "none" else 0]})


def composite_weights(fit: FactorFit, convention: str) -> pd.Series:
    """Weights :math:`w_j` of the composite score, summing to 1.

    - ``rotated_variance``: :math:`w_j = SS_j / \\sum_{l \\le k} SS_l`, the
      rotated factors' sums of squared loadings (the usual thesis convention,
      "variance contribution rate after rotation / cumulative rate");
    - ``eigenvalue``: :math:`w_j = \\lambda_j / \\sum_{l \\le k} \\lambda_l`, the
      unrotated eigenvalues (for principal axes, the extraction sums of squared
      loadings, SPSS's name for the eigenvalues of the reduced matrix), applied
      to the rotated scores in order F1..Fk as such theses do;
    - ``equal``: :math:`w_j = 1/k`.
    """
    if convention == "rotated_variance":
        raw = fit.variance.set_index("factor")["ss_loadings"]
    elif convention == "equal":
        raw = pd.Series(1.0, index=fit.loadings.columns)
    else:
        raw = pd.Series((fit.unrotated_loadings**2).sum().to_numpy(), index=fit.loadings.columns)
    weights = raw / raw.sum()
    weights.index.name, weights.name = "factor", "weight"
    return weights


def composite_score(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Composite score :math:`F = \\sum_j w_j F_j` per customer (missing for a customer without scores)."""
    weighted = scores[weights.index].to_numpy() * weights.to_numpy()  # pandas' sum(axis=1, skipna=False), faster
    return pd.Series(weighted.sum(axis=1), index=scores.index, name="composite_score")


def total_variance_explained(fit: FactorFit) -> pd.DataFrame:
    """SPSS's "Total Variance Explained" table, one row per component.

    Columns: ``component``; ``initial_total``, ``initial_pct``,
    ``initial_cum_pct`` (all eigenvalues); ``extraction_total``,
    ``extraction_pct``, ``extraction_cum_pct`` (sums of squared unrotated
    loadings of the retained factors: the eigenvalues for principal components);
    ``rotation_total``, ``rotation_pct``, ``rotation_cum_pct`` (rotated sums of
    squared loadings, in psych's order). Percentages are of the number of
    indicators, in percent; empty beyond the retained components.
    """
    eigen = fit.eigenvalues.to_numpy()
    p, k = len(eigen), fit.n_factors
    pct = 100.0 * eigen / p
    rotation = fit.variance["ss_loadings"].to_numpy()
    extraction = (fit.unrotated_loadings**2).sum().to_numpy()

    def retained(values):
        return np.concatenate([values[:k], np.full(p - k, np.nan)])

    rot_pct, ext_pct = 100.0 * rotation / p, 100.0 * extraction / p
    return pd.DataFrame({
        "component": np.arange(1, p + 1),
        "initial_total": eigen,
        "initial_pct": pct,
        "initial_cum_pct": np.cumsum(pct),
        "extraction_total": retained(extraction),
        "extraction_pct": retained(ext_pct),
        "extraction_cum_pct": retained(np.cumsum(ext_pct)),
        "rotation_total": retained(rotation),
        "rotation_pct": retained(rot_pct),
        "rotation_cum_pct": retained(np.cumsum(rot_pct)),
    })


@dataclass(frozen=True)
class CompositeFit:
    """Everything :func:`fit_composite` computes from a correlation matrix.

    Attributes
    ----------
    fit : FactorFit
    weights : Series
        Composite weights by factor.
    parallel : DataFrame
        Parallel-analysis table (:func:`parallel_analysis`), the reference line of the scree plot.
    condition_number : float
    """

    fit: FactorFit
    weights: pd.Series
    parallel: pd.DataFrame
    condition_number: float


#: The iterative extractions by their params name.
EXTRACTIONS = {"minres": minimum_residual_factoring, "pa": principal_axis_factoring, "ml": maximum_likelihood_factoring}


def extract_factors(corr: pd.DataFrame, n_factors: int, settings, *, file=None) -> FactorFit:
    """The fit of ``n_factors`` factors by a case's ``factor_analysis`` settings: extraction (principal
    components, principal axes or maximum likelihood), rotation, and score coefficients of the chosen method."""
    rotation = {"rotation": settings.rotation, "kaiser_normalization": settings.kaiser_normalization}
    if settings.extraction == "principal":
        fit = principal_components(corr, n_factors, **rotation)
    else:
        fit = EXTRACTIONS[settings.extraction](corr, n_factors, **rotation, file=file)
    if settings.scores != "regression":
        fit = replace(fit, score_coefficients=score_coefficients(corr, fit.loadings, settings.scores,
                                                                 fit.factor_correlations))
    return fit


def factor_alignment(loadings: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """How ``loadings``' factors match ``target``'s: the permutation that maximizes the sum of the absolute Tucker
    congruences :math:`\\phi_{jk} = \\sum_i a_{ij} b_{ik} / \\sqrt{\\sum a_{ij}^2 \\sum b_{ik}^2}` (scipy's
    ``linear_sum_assignment``), and the sign that makes each matched congruence positive (as ``psych::fa.congruence``
    matches factors).

    Returns
    -------
    DataFrame
        Indexed by ``loadings``' factors: ``target`` (the matched factor of ``target``) and ``sign`` (+1 or -1).
    """
    a, b = loadings.to_numpy(), target.to_numpy()
    congruence = (a.T @ b) / np.sqrt(np.outer((a**2).sum(axis=0), (b**2).sum(axis=0)))
    rows, columns = optimize.linear_sum_assignment(-np.abs(congruence))
    return pd.DataFrame({"target": target.columns[columns], "sign": np.sign(congruence[rows, columns])},
                        index=loadings.columns[rows])


def align_factors(loadings: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """``loadings`` with their columns permuted and their signs flipped to match ``target``'s
    (:func:`factor_alignment`); labelled as ``target``."""
    match = factor_alignment(loadings, target)
    return (loadings[match.index] * match["sign"].to_numpy()).set_axis(match["target"], axis=1)[target.columns]


def oriented_fit(corr: pd.DataFrame, target: FactorFit, settings, *, file=None) -> FactorFit:
    """The fit of ``target``'s number of factors to ``corr`` (:func:`extract_factors`), each factor's sign turned to
    match its counterpart in ``target`` by Tucker congruence (:func:`factor_alignment`): a bootstrap sample's
    solution in the full sample's orientation. The loadings, rotation matrix, score coefficients and factor
    correlations turn with it; the order of the factors and the composite weights are unchanged."""
    fit = extract_factors(corr, target.n_factors, settings, file=file)
    signs = factor_alignment(fit.loadings, target.loadings)["sign"][fit.loadings.columns]
    correlations = fit.factor_correlations
    if correlations is not None:
        correlations = correlations * np.outer(signs, signs)
    return replace(fit, loadings=fit.loadings * signs, rotation_matrix=fit.rotation_matrix * signs,
                   score_coefficients=fit.score_coefficients * signs[fit.score_coefficients.columns],
                   factor_correlations=correlations)


def loading_intervals(data: pd.DataFrame, fit: FactorFit, settings, *, replicates: int,
                      confidence: float, seed: int, pairwise: bool = False) -> pd.DataFrame:
    """Percentile bootstrap intervals of the rotated loadings: ``replicates`` samples of the rows of ``data``
    (the customers' z-scores), drawn with replacement by NumPy's PCG64 seeded with ``seed``; each refitted as
    ``fit`` was (:func:`extract_factors`, the same number of factors) and aligned to it (:func:`align_factors`)
    before the :math:`(1 \\pm confidence) / 2` quantiles (type 7) are taken. A replicate whose fit fails (a
    Heywood case) is left out and counted. With ``pairwise``, each sample's correlations are pairwise
    (:func:`correlation_matrix`), as the full sample's.

    Returns
    -------
    DataFrame
        One row per indicator and factor: ``indicator``, ``factor``, ``loading`` (the full sample's),
        ``lower``, ``upper``, ``replicates`` (used), ``failed``.
    """
    x = data.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    draws, failed = [], 0
    for _ in range(replicates):
        sample = x[rng.integers(0, len(x), size=len(x))]
        corr = correlation_matrix(pd.DataFrame(sample, columns=data.columns), pairwise)
        try:
            draws.append(align_factors(extract_factors(corr, fit.n_factors, settings).loadings, fit.loadings))
        except InputError:
            failed += 1
    tail = (1 - confidence) / 2
    stacked = np.stack([d.to_numpy() for d in draws])
    lower, upper = np.quantile(stacked, tail, axis=0), np.quantile(stacked, 1 - tail, axis=0)
    long = fit.loadings.rename_axis(index="indicator", columns="factor").stack().rename("loading").reset_index()
    return long.assign(lower=lower.ravel(), upper=upper.ravel(), replicates=len(draws), failed=failed)


def fit_composite(corr: pd.DataFrame, n: int, settings, *, file=None) -> CompositeFit:
    """The factor-analysis chain on the correlation matrix of ``n`` customers: conditioning check, number of
    factors, extraction (principal components, principal axes or maximum likelihood), rotation and the composite's
    weights, by a
    case's ``factor_analysis`` settings. The scores follow from the fit: :func:`factor_scores` in memory,
    :func:`engine_factor_scores` by the run's engine."""
    kappa = check_conditioning(corr, settings.max_condition_number, file=file)
    k, parallel = retained_factors(corr, n, settings.n_factors)
    fit = extract_factors(corr, k, settings, file=file)
    return CompositeFit(fit, composite_weights(fit, settings.composite_weights), parallel, kappa)


def engine_factor_scores(run, table: str, moments: Moments, fit: FactorFit, weights: pd.Series,
                         impute: str = "none", id_column: str = "customer_id"):
    """Factor scores and the composite score of every customer of engine table ``table``, computed by the engine:
    :math:`F_k = \\sum_j z_j W_{jk}` with :math:`z_j = (x_j - \\bar x_j) / s_j` from ``moments``
    (:func:`exact_moments`) and ``W`` = ``fit.score_coefficients``, then :math:`F = \\sum_k w_k F_k` (``weights``).
    The same formulas as :func:`factor_scores` and :func:`composite_score`, in SQL; ordered by customer id.

    A missing value (pairwise deletion) is scored by ``impute`` as :func:`factor_scores` does: ``none`` leaves the
    customer's scores NULL; ``mean`` or ``median`` (exact: ``quantile_cont``, Spark's ``percentile``) fills it,
    standardizes every column again and each score column after, from exact sums (:func:`exact_moments`).

    Returns
    -------
    EngineTable
        :class:`crmlib.engine.EngineTable` keyed by ``customer_id`` (text): ``F1..Fk`` and ``composite_score``, on
        the engine (``.frame()`` brings a small one into memory).
    """
    from .engine import EngineTable, exact_quantiles, number, quote
    coefficients = fit.score_coefficients
    columns, identifier = list(coefficients.index), quote(id_column)
    if impute != "none":
        if impute == "mean":
            fill = moments.means
        else:
            fill = pd.Series(exact_quantiles(run, table, columns, [0.5])[:, 0], index=columns)
        run.create("completed_indicators", f"SELECT {identifier}, " + ", ".join(
            f"COALESCE(CAST({quote(c)} AS DOUBLE), {number(fill[c])}) AS {quote(c)}" for c in columns)
            + f" FROM {table}", rows=True)
        table, moments = "completed_indicators", exact_moments(run, "completed_indicators", columns, moments.ddof)
    z = ", ".join(f"(CAST({quote(c)} AS DOUBLE) - {number(moments.means[c])}) / "
                  f"{number(moments.standard_deviations[c])} AS {quote('z_' + c)}" for c in columns)
    factor = ", ".join(" + ".join(f"{quote('z_' + c)} * {number(coefficients.loc[c, f])}" for c in columns)
                       + f" AS {f}" for f in coefficients.columns)
    scores = f"SELECT {identifier}, {factor} FROM (SELECT {identifier}, {z} FROM {table}) AS standardized"
    if impute != "none":
        run.create("unscaled_factor_scores", scores, rows=True)
        spread = exact_moments(run, "unscaled_factor_scores", list(coefficients.columns), moments.ddof)
        scores = (f"SELECT {identifier}, " + ", ".join(
            f"({f} - {number(spread.means[f])}) / {number(spread.standard_deviations[f])} AS {f}"
            for f in coefficients.columns) + " FROM unscaled_factor_scores")
    composite = " + ".join(f"{f} * {number(weights[f])}" for f in coefficients.columns)
    return EngineTable(run, f"SELECT CAST({identifier} AS VARCHAR) AS customer_id, "
                            f"{', '.join(coefficients.columns)}, {composite} AS composite_score FROM ({scores}) AS scores",
                       "customer_id")


@dataclass(frozen=True)
class ExploratoryFactors:
    """An exploratory factor solution of questionnaire items.

    Attributes
    ----------
    loadings : DataFrame
        item x ``F1..Fk`` (pattern loadings for oblique rotations), ordered by
        sums of squared loadings, each column summing positive.
    communalities : DataFrame
        ``item``, ``communality``.
    factor_correlations : DataFrame or None
        ``F1..Fk`` x ``F1..Fk`` for oblique rotations (Phi), else None.
    """

    loadings: pd.DataFrame
    communalities: pd.DataFrame
    factor_correlations: pd.DataFrame | None


def exploratory_factor_analysis(data: pd.DataFrame, n_factors: int, *, extraction: str = "minres",
                                rotation: str = "oblimin", pairwise: bool = False,
                                correlations: pd.DataFrame | None = None) -> ExploratoryFactors:
    """Exploratory factor analysis of items, as ``psych::fa(x, k, fm = ..., rotate = ...)``.

    Extraction: ``principal`` (:func:`principal_components`), ``minres`` (:func:`minimum_residual_factoring`),
    ``pa`` (:func:`principal_axis_factoring`), ``ml`` (:func:`maximum_likelihood_factoring`). The unrotated
    loadings are rotated by :func:`quartimax_rotation` (without Kaiser normalization, as psych's ``fa``) or
    factor_analyzer's ``Rotator`` (varimax, oblimin with gamma 0, promax), applied here
    rather than through ``FactorAnalyzer(rotation=...)``: factor_analyzer 0.5.1 re-sorts its rotated loadings but
    leaves ``phi_`` in the old order, so its factor correlations do not match its loadings; principal components
    with varimax or none are :func:`principal_components`' own. The oblique rotations stop at the rotation's
    default tolerance. Columns follow psych's order and sign rule (by sums of squared loadings,
    each summing positive), so a comparison needs no alignment beyond psych's own factor names. With ``pairwise``
    the correlations are pairwise (:func:`correlation_matrix`), as ``psych::fa`` computes them from raw data;
    ``correlations``, when given, are analysed instead (the items' polychoric correlations:
    ``fa(x, k, cor = "poly")``).
    """
    corr = correlation_matrix(data, pairwise) if correlations is None else correlations
    if extraction == "principal" and rotation in {"varimax", "none"}:
        loadings, phi = principal_components(corr, n_factors, rotation=rotation).loadings.to_numpy(), None
    else:
        extract = EXTRACTIONS.get(extraction, principal_components)
        loadings = extract(corr, n_factors, rotation="none").unrotated_loadings.to_numpy()
        phi = None
        if rotation == "quartimax" and n_factors > 1:
            loadings = loadings @ quartimax_rotation(loadings, kaiser_normalization=False)  # as psych's fa
        elif rotation != "none" and n_factors > 1:
            rotator = _rotator(method=rotation)
            loadings = rotator.fit_transform(loadings)
            phi = rotator.phi_ if rotation in {"oblimin", "promax"} else None
    order = np.argsort(-(loadings**2).sum(axis=0), kind="stable")
    signs = _positive_column_sums(loadings[:, order])
    loadings = loadings[:, order] * signs
    names = [f"F{j + 1}" for j in range(n_factors)]
    factor_correlations = None
    if phi is not None:
        phi = phi[np.ix_(order, order)] * np.outer(signs, signs)
        factor_correlations = pd.DataFrame(phi, index=names, columns=names)
    frame = pd.DataFrame(loadings, index=data.columns, columns=names)
    if factor_correlations is None:
        communality = (loadings**2).sum(axis=1)
    else:
        communality = np.einsum("ij,jk,ik->i", loadings, phi, loadings)
    return ExploratoryFactors(frame, pd.DataFrame({"item": data.columns, "communality": communality}),
                              factor_correlations)


def item_fit(loadings: pd.DataFrame, declared: dict[str, str], min_loading: float) -> pd.DataFrame:
    """Does each item load on the factor of its declared dimension?

    Each factor is attributed to the dimension most of its primary items (the
    items loading highest on it, in absolute value) are declared in. An item
    fits when its primary factor is attributed to its own dimension and its
    primary loading reaches ``min_loading``.

    Returns
    -------
    DataFrame
        One row per item: ``item``, ``declared_dimension``, ``primary_factor``,
        ``primary_loading``, ``factor_dimension``, ``fits``.
    """
    primary = loadings.abs().idxmax(axis=1)
    table = pd.DataFrame({"item": loadings.index, "declared_dimension": [declared[i] for i in loadings.index],
                          "primary_factor": primary.to_numpy(),
                          "primary_loading": [loadings.loc[i, f] for i, f in primary.items()]})
    majority = table.groupby("primary_factor")["declared_dimension"].agg(lambda d: d.value_counts().index[0])
    table["factor_dimension"] = table["primary_factor"].map(majority)
    table["fits"] = (table["factor_dimension"] == table["declared_dimension"]) & \
        (table["primary_loading"].abs() >= min_loading)
    return table


def name_factors(loadings: pd.DataFrame, labels: dict[str, dict[str, str]], given: dict | None = None
                 ) -> pd.DataFrame:
    """Name each factor after the indicators that load on it most: an indicator belongs to the factor on which its
    absolute loading is largest; the factor is named after its two strongest, e.g. "日均存款余额、贷款余额因子" /
    "Average daily deposit balance & Loan balance factor". ``given``
    maps a factor id to a name given in the params (objects with ``name_en``, ``name_zh``), which wins.

    Parameters
    ----------
    loadings : DataFrame
        Rotated loadings, indicators down, factors ``F1..Fk`` across.
    labels : dict
        ``{"en": {id: label}, "zh": {id: label}}``; the case's pass :func:`crmlib.labels.reversed_labels`, so a
        reversed (cost) indicator is marked in the name.

    Returns
    -------
    DataFrame
        ``factor``, ``name_en``, ``name_zh``, ``indicators`` (ids, strongest first), ``named_by``.
    """
    given = given or {}
    strength = loadings.abs()
    primary = strength.idxmax(axis=1)
    rows = []
    for factor in loadings.columns:
        members = strength.loc[primary == factor, factor].sort_values(ascending=False, kind="stable").index.tolist()

        if factor in given:
            name_en, name_zh, by = given[factor].name_en, given[factor].name_zh or given[factor].name_en, "params"
        elif members:
            name_en = " & ".join(labels["en"].get(i, i) for i in members[:2]) + " factor"
            name_zh = "、".join(labels["zh"].get(i, i) for i in members[:2]) + "因子"
            by = "loadings"
        else:
            name_en, name_zh, by = f"{factor} (no indicator loads most on it)", f"{factor}（无主载荷指标）", "loadings"
        rows.append({"factor": factor, "name_en": name_en, "name_zh": name_zh, "indicators": ", ".join(members),
                     "named_by": by})
    return pd.DataFrame(rows)
