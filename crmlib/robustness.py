"""How much a grading depends on the choices behind it: the grades under each defensible alternative convention,
one at a time, and their stability over bootstrap samples of the customers.

A grading rests on conventions that textbooks, SPSS, psych and the theses choose differently: the missing-value
policy, winsorizing, the extraction, the rotation, the rule for the number of factors, the composite's weights.
:func:`convention_variants` lists the alternatives to a case's own settings; :func:`grading_chain` runs the whole
chain (cleaning, z-scores, correlations, factors, scores, composite, grades) in memory for one set of settings, and
:func:`compare_grades` says how many customers change grade, how the grades move, and how the composite scores'
ranks correlate (Spearman). :func:`bootstrap_stability` refits everything on samples of the customers drawn with
replacement, aligns each sample's factors to the full sample's (Tucker congruence) and grades every customer with
the sample's fit and thresholds: the share of samples in which a customer keeps their grade.

Conventions
-----------
- The in-memory chain is the pipeline's (the same functions of :mod:`crmlib.cleaning`, :mod:`crmlib.indicators`
  and :mod:`crmlib.factors`); grades are quantile-type-7 thresholds of the composite as the engine computes them, a
  customer on a bound getting the better grade.
- A customer without a grade in either grading (a missing indicator under pairwise deletion without imputation) is
  left out of that comparison; ``graded`` counts those compared.
- An alternative that cannot be fitted (a Heywood case, too few factors, an ill-conditioned matrix) is reported with
  its reason and no figures.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from . import cleaning, factors, indicators
from .errors import InputError

__all__ = ["CONVENTIONS", "hash_sample", "Variant", "convention_variants", "GradedRun", "grading_chain", "grade",
           "compare_grades", "transition_table", "bootstrap_stability", "stability_summary"]

#: The conventions that can be varied, in the order they are reported.
CONVENTIONS = ("missing", "winsorize", "extraction", "rotation", "n_factors", "composite_weights")


def hash_sample(ids: pd.Index, seed: int, size: int) -> pd.Index:
    """The ``size`` ids with the smallest MD5 of ``'<seed>:<id>'`` (ties by id), in their own order: the sample the
    engine draws by :func:`crmlib.engine.hash_order`, the same on any machine."""
    order = pd.DataFrame({"key": [hashlib.md5(f"{seed}:{i}".encode("utf-8")).hexdigest() for i in ids],
                          "id": [str(i) for i in ids]}).sort_values(["key", "id"], kind="stable")
    return ids[np.sort(order.index[:size].to_numpy())]


@dataclass(frozen=True)
class Variant:
    """One alternative: the ``convention`` changed, its ``value`` as text, and the full settings it gives."""

    convention: str
    value: str
    cleaning: object
    settings: object


def convention_variants(rules, settings, n_factors: int, n_indicators: int, has_missing: bool,
                        conventions=CONVENTIONS) -> list[Variant]:
    """The alternatives to a case's cleaning ``rules`` and ``factor_analysis`` ``settings``, one convention at a
    time: every other missing-value policy (only when the data have missing values), winsorizing at 1%/99% or off,
    every other extraction and rotation, the Kaiser and parallel-analysis rules and a fixed one factor fewer and more
    than the case retains (``n_factors``), and the other composite weights. Combinations the settings refuse (an
    oblique rotation with Anderson-Rubin scores) are left out."""
    fields = {
        "missing": [m for m in ("drop", "median", "mean", "pairwise") if has_missing and m != rules.missing],
        "winsorize": [None] if rules.winsorize is not None else [(0.01, 0.99)],
        "extraction": [e for e in ("principal", "minres", "pa", "ml") if e != settings.extraction],
        "rotation": [r for r in ("varimax", "quartimax", "oblimin", "promax", "none") if r != settings.rotation],
        "n_factors": ([{"rule": rule} for rule in ("kaiser", "parallel") if rule != settings.n_factors.rule]
                      + [{"rule": "fixed", "n": k} for k in (n_factors - 1, n_factors + 1) if 1 <= k < n_indicators]),
        "composite_weights": [w for w in ("rotated_variance", "eigenvalue", "equal") if w != settings.composite_weights],
    }
    variants = []
    for convention in conventions:
        for value in fields[convention]:
            try:
                variants.append(_variant(rules, settings, convention, value))
            except ValueError:  # a combination the settings refuse
                continue
    return variants


def _variant(rules, settings, convention, value) -> Variant:
    if convention in ("missing", "winsorize"):
        new_rules = type(rules).model_validate(rules.model_dump() | {convention: value})
        impute = settings.impute if new_rules.missing == "pairwise" else "none"
        new_settings = type(settings).model_validate(settings.model_dump() | {"impute": impute})
        text = value if convention == "missing" else ("off" if value is None else f"{value[0]:g}/{value[1]:g}")
        return Variant(convention, text, new_rules, new_settings)
    if convention == "n_factors":
        count = settings.n_factors.model_dump() | {"n": None} | value
        text = value["rule"] if value["rule"] != "fixed" else f"fixed {value['n']}"
        return Variant(convention, text, rules, type(settings).model_validate(settings.model_dump()
                                                                              | {"n_factors": count}))
    return Variant(convention, str(value), rules, type(settings).model_validate(settings.model_dump()
                                                                                 | {convention: value}))


def grade(composite: pd.Series, grading, reference: pd.Series | None = None) -> pd.Series:
    """Grades of composite scores by a grading rule, as the engine grades them
    (:func:`crmlib.segmentation.grade_thresholds` and :func:`~crmlib.segmentation.grade_customers`): quantile
    bounds of type 7 of the scores present in ``reference`` (default: ``composite`` itself), or the cut-offs
    themselves; each customer the first grade, best first, whose bound the score reaches; no grade without a
    score."""
    scored = (composite if reference is None else reference).dropna().to_numpy()
    result = pd.Series(None, index=composite.index, dtype=object)
    remaining = composite.notna()
    for level in grading.grades:
        if level.lower is None:
            result[remaining] = level.id
            break
        bound = np.quantile(scored, level.lower, method="linear") if grading.method == "quantile" else level.lower
        reached = remaining & (composite >= bound)
        result[reached] = level.id
        remaining &= ~reached
    return result.rename("grade")


@dataclass(frozen=True)
class GradedRun:
    """Output of :func:`grading_chain`: the ``composite`` score and ``grades`` per customer, the ``fit`` and the
    number of factors retained."""

    composite: pd.Series
    grades: pd.Series
    fit: factors.FactorFit
    n_factors: int


def grading_chain(raw: pd.DataFrame, directions: dict[str, str], rules, settings, grading) -> GradedRun:
    """The pipeline's chain in memory for one set of cleaning ``rules`` and ``factor_analysis`` ``settings``:
    :func:`crmlib.cleaning.clean_indicators`, z-scores in benefit direction, correlations (pairwise under pairwise
    deletion), the number of factors, the fit, scores, the composite and its grades. Raises
    :class:`~crmlib.errors.InputError` where the pipeline would stop."""
    data = cleaning.clean_indicators(raw, rules).data
    z = indicators.standardize(indicators.to_benefit_direction(data, directions), ddof=rules.ddof)
    result = factors.fit_composite(factors.correlation_matrix(z, rules.missing == "pairwise"), len(z), settings)
    composite = factors.composite_score(factors.factor_scores(z, result.fit, rules.ddof, settings.impute),
                                        result.weights)
    return GradedRun(composite, grade(composite, grading), result.fit, result.fit.n_factors)


def compare_grades(base: GradedRun, other: GradedRun) -> dict[str, float]:
    """``graded`` (customers graded in both), ``share_changed`` (of them, the share whose grade differs) and
    ``spearman`` (the rank correlation of their composite scores)."""
    both = base.grades.notna() & other.grades.reindex(base.grades.index).notna()
    ids = base.grades.index[both]
    changed = (base.grades[ids] != other.grades[ids]).mean() if len(ids) else np.nan
    rho = stats.spearmanr(base.composite[ids], other.composite[ids]).statistic if len(ids) > 2 else np.nan
    return {"graded": int(len(ids)), "share_changed": float(changed), "spearman": float(rho)}


def transition_table(base: pd.Series, other: pd.Series, order: list[str]) -> pd.DataFrame:
    """Customers by their grade under the case's settings (rows, ``grade``) and under the alternative (columns,
    best first), in long form: ``grade``, ``to_grade``, ``customers``."""
    both = base.notna() & other.reindex(base.index).notna()
    table = pd.crosstab(pd.Categorical(base[both], order), pd.Categorical(other.reindex(base.index)[both], order),
                        dropna=False)
    return (table.rename_axis(index="grade", columns="to_grade").stack().rename("customers").reset_index()
            .astype({"grade": str, "to_grade": str, "customers": int}))


def bootstrap_stability(raw: pd.DataFrame, directions: dict[str, str], rules, settings, grading, base: GradedRun,
                        *, replicates: int, seed: int) -> pd.DataFrame:
    """For each customer, the share of ``replicates`` bootstrap samples in which they keep their grade.

    Each sample draws the customers of the cleaned data with replacement (NumPy's PCG64 seeded with ``seed``),
    refits the factors with the case's settings and the number of factors of ``base``, aligns them to ``base``'s
    (:func:`crmlib.factors.align_factors`: order and sign by Tucker congruence), and scores every customer with the
    sample's score coefficients and composite weights; the grade bounds are the sample's own quantiles of its
    customers' composites. A sample whose fit fails is left out and counted.

    Returns
    -------
    DataFrame
        Indexed by customer id: ``grade`` (the case's), ``bootstrap_samples`` (samples in which the customer was
        graded), ``same_grade_share`` (the share of them giving the case's grade); ``attrs``: ``replicates`` drawn and ``failed``
        (left out).
    """
    data = cleaning.clean_indicators(raw, rules).data
    z = indicators.standardize(indicators.to_benefit_direction(data, directions), ddof=rules.ddof)
    pairwise = rules.missing == "pairwise"
    rng = np.random.default_rng(seed)
    same = pd.Series(0, index=base.grades.index)
    counted = pd.Series(0, index=base.grades.index)
    failed = 0
    for _ in range(replicates):
        rows = rng.integers(0, len(z), size=len(z))
        sample = z.iloc[rows]
        try:
            fit = factors.extract_factors(factors.correlation_matrix(sample, pairwise), base.n_factors, settings)
        except (InputError, np.linalg.LinAlgError):
            failed += 1
            continue
        signs = factors.factor_alignment(fit.loadings, base.fit.loadings)["sign"]
        coefficients = fit.score_coefficients * signs[fit.score_coefficients.columns]
        scores = factors.factor_scores(z, replace(fit, score_coefficients=coefficients), rules.ddof, settings.impute)
        composite = factors.composite_score(scores, factors.composite_weights(fit, settings.composite_weights))
        grades = grade(composite, grading, reference=composite.iloc[rows])
        graded = grades.notna() & base.grades.notna()
        counted[graded] += 1
        same[graded & (grades == base.grades)] += 1
    result = pd.DataFrame({"grade": base.grades, "bootstrap_samples": counted,
                           "same_grade_share": (same / counted.where(counted > 0)).astype(float)})
    result.attrs |= {"replicates": replicates, "failed": failed}
    return result


def stability_summary(stability: pd.DataFrame, order: list[str], stable_share: float) -> pd.DataFrame:
    """Per grade (best first) and over all graded customers: ``customers``, ``mean_same_grade_share`` (the mean of their
    shares of samples keeping the grade), ``share_stable`` (the share of them keeping it in at least ``stable_share`` of
    the samples); ``replicates`` used and ``failed`` (left out)."""
    graded = stability[stability["grade"].notna() & (stability["bootstrap_samples"] > 0)]
    rows = []
    for name, members in [(g, graded[graded["grade"] == g]) for g in order] + [("all", graded)]:
        rows.append({"grade": name, "customers": len(members),
                     "mean_same_grade_share": members["same_grade_share"].mean(),
                     "share_stable": (members["same_grade_share"] >= stable_share).mean() if len(members) else np.nan})
    return pd.DataFrame(rows).assign(stable_share=stable_share,
                                     replicates=stability.attrs["replicates"] - stability.attrs["failed"],
                                     failed=stability.attrs["failed"])
