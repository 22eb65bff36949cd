"""How much a grading or a value matrix depends on the choices behind it: the grades or classes under each
defensible alternative convention, one at a time, and their stability over bootstrap samples of the customers.

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

The value matrix (:func:`value_variants`, :func:`classify`, :func:`compare_classes`,
:func:`class_bootstrap_stability`) varies the missing-value policy, winsorizing, the normalization, each dimension's
weighting method (entropy, factor analysis, equal weights; never AHP, whose comparison matrix only the case's own
settings give), each axis's threshold rule (mean or median) and, when a dimension is weighted by factor analysis,
that analysis's conventions; it compares the classes and the Spearman rank correlation of each axis's values with
the case's. Its bootstrap refits everything on each sample and classifies the customers the sample drew.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import cleaning, engine, factors, indicators, io, segmentation, transactions, value
from .errors import InputError

__all__ = ["CONVENTIONS", "VALUE_CONVENTIONS", "hash_sample", "case_measures", "Variant", "convention_variants",
           "GradedRun", "CleanedMeasures", "benefit_z_scores", "grading_chain", "grade", "compare_grades",
           "transition_table", "variant_comparison", "bootstrap_stability",
           "stability_summary", "CaseVariant", "value_variants", "ClassedRun", "compare_classes",
           "classify", "class_bootstrap_stability"]

#: The conventions of a grading that can be varied, in the order they are reported.
CONVENTIONS = ("missing", "winsorize", "extraction", "rotation", "n_factors", "composite_weights")
#: The conventions of a value matrix that can be varied, in the order they are reported.
VALUE_CONVENTIONS = ("missing", "winsorize", "normalization", "weights", "threshold", "extraction", "rotation",
                     "n_factors", "composite_weights")


def hash_sample(ids: pd.Index, seed: int, size: int) -> pd.Index:
    """The ``size`` ids with the smallest MD5 of ``'<seed>:<id>'`` (ties by id), in their own order: the sample the
    engine draws by :func:`crmlib.engine.hash_order`, drawn by that expression on the in-process DuckDB engine."""
    run = engine.DuckDBEngine()
    run.table("sample_ids", pd.DataFrame({"customer_id": ids, "position": np.arange(len(ids))}))
    drawn = run.query(f"SELECT position FROM sample_ids ORDER BY {engine.hash_order(seed, 'customer_id')} "
                      f"LIMIT {int(size)}")["position"].to_numpy()
    return ids[np.sort(drawn)]


def case_measures(params, settings) -> tuple[pd.DataFrame, int]:
    """The case's indicators as stage 01 reads them, before cleaning (from the customer file, or built by the run's
    engine from the transactions), and the number of customers; above ``settings.max_customers`` customers, the
    :func:`hash_sample` of that many. A typed Parquet customer file is read by the run's engine, which draws the
    sample: only the customers analysed come into memory."""
    from .families.customer_file import parquet  # the customer file's reader, which the families here build on
    run = engine.current()
    if params.data.transactions is None and parquet.read_customer_file(run, params.data, params.data_path,
                                                                        params.indicators) is not None:
        customers = int(run.first("SELECT COUNT(*) AS n FROM customer_file")["n"])
        drawn = "customer_file"
        if customers > settings.max_customers:
            drawn = (f"(SELECT * FROM customer_file ORDER BY {engine.hash_order(settings.seed, 'customer_id')} "
                     f"LIMIT {int(settings.max_customers)}) AS drawn")
        raw = run.query(f"SELECT * FROM {drawn} ORDER BY input_row").set_index("customer_id")
        return raw[[i.id for i in params.indicators]], customers
    if params.data.transactions is not None:
        raw = transactions.read_measures(engine.current(), params.data, params.data_path,
                                         params.indicators).measures.values
    else:
        raw = io.read_measures(params.data, params.data_path, params.indicators).values
    customers = len(raw)
    if customers > settings.max_customers:
        raw = raw.loc[hash_sample(raw.index, settings.seed, settings.max_customers)]
    return raw, customers


@dataclass(frozen=True)
class Variant:
    """One alternative: the ``convention`` changed, its ``value`` as text, and the full settings it gives."""

    convention: str
    value: str
    cleaning: object
    settings: object


def convention_variants(rules, settings, n_factors: int | None, n_indicators: int, has_missing: bool,
                        conventions=CONVENTIONS) -> list[Variant]:
    """The alternatives to a case's cleaning ``rules`` and ``factor_analysis`` ``settings``, one convention at a
    time: every other missing-value policy (only when the data have missing values), winsorizing at 1%/99% or off,
    every other extraction and rotation, the Kaiser and parallel-analysis rules and, given the ``n_factors`` the case
    retains, a fixed one factor fewer and more, and the other composite weights. Combinations the settings refuse
    (an oblique rotation with Anderson-Rubin scores) are left out."""
    fields = {
        "missing": [m for m in ("drop", "median", "mean", "pairwise") if has_missing and m != rules.missing],
        "winsorize": [None] if rules.winsorize is not None else [(0.01, 0.99)],
        "extraction": [e for e in ("principal", "minres", "pa", "ml") if e != settings.extraction],
        "rotation": [r for r in ("varimax", "quartimax", "oblimin", "promax", "none") if r != settings.rotation],
        "n_factors": ([{"rule": rule} for rule in ("kaiser", "parallel") if rule != settings.n_factors.rule]
                      + [{"rule": "fixed", "n": k} for k in ((n_factors - 1, n_factors + 1) if n_factors else ())
                         if 1 <= k < n_indicators]),
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
    values = composite.to_numpy(dtype=float)
    scored = (values if reference is None else reference.to_numpy(dtype=float))
    scored = scored[~np.isnan(scored)]
    result = np.full(len(values), None, dtype=object)
    remaining = ~np.isnan(values)
    bounded = [level.lower for level in grading.grades if level.lower is not None]
    bounds = iter(np.quantile(scored, bounded, method="linear") if grading.method == "quantile" and bounded
                  else bounded)
    for level in grading.grades:
        if level.lower is None:
            result[remaining] = level.id
            break
        reached = remaining & (values >= next(bounds))
        result[reached] = level.id
        remaining &= ~reached
    return pd.Series(result, index=composite.index, name="grade")


@dataclass(frozen=True)
class GradedRun:
    """Output of :func:`grading_chain`: the ``composite`` score and ``grades`` per customer, the ``fit`` and the
    number of factors retained."""

    composite: pd.Series
    grades: pd.Series
    fit: factors.FactorFit
    n_factors: int


class CleanedMeasures:
    """The case's measures ``raw`` cleaned (:func:`crmlib.cleaning.clean_indicators`) under each set of cleaning
    rules asked for, each set once: the alternatives that change only later conventions share one cleaning."""

    def __init__(self, raw: pd.DataFrame):
        self.raw, self._cleaned = raw, {}

    def __call__(self, rules) -> pd.DataFrame:
        key = rules.model_dump_json()
        if key not in self._cleaned:
            self._cleaned[key] = cleaning.clean_indicators(self.raw, rules).data
        return self._cleaned[key]


def benefit_z_scores(data: pd.DataFrame, directions: dict[str, str], ddof: int) -> pd.DataFrame:
    """z-scores (``ddof``) of cleaned ``data`` with cost indicators reversed (``directions``), as stage 02
    computes them."""
    return indicators.standardize(indicators.to_benefit_direction(data, directions), ddof=ddof)


def grading_chain(z: pd.DataFrame, rules, settings, grading) -> GradedRun:
    """The rest of the pipeline's chain in memory, from the :func:`benefit_z_scores` ``z`` of the data cleaned under
    ``rules``, for one set of ``factor_analysis`` ``settings``: correlations (pairwise under pairwise deletion), the
    number of factors, the fit, scores, the composite and its grades. Raises :class:`~crmlib.errors.InputError`
    where the pipeline would stop."""
    result = factors.fit_composite(factors.correlation_matrix(z, rules.missing == "pairwise"), len(z), settings)
    composite = factors.composite_score(factors.factor_scores(z, result.fit, rules.ddof, settings.impute),
                                        result.weights)
    return GradedRun(composite, grade(composite, grading), result.fit, result.fit.n_factors)


def compare_grades(base: GradedRun, other: GradedRun) -> dict[str, float]:
    """``graded`` (customers graded in both), ``share_changed`` (of them, the share whose grade differs) and
    ``spearman`` (the rank correlation of their composite scores)."""
    grades, composite = (s.reindex(base.grades.index).to_numpy() for s in (other.grades, other.composite))
    both = base.grades.notna().to_numpy() & pd.notna(grades)
    graded = int(both.sum())
    changed = (base.grades.to_numpy()[both] != grades[both]).mean() if graded else np.nan
    rho = (stats.spearmanr(base.composite.to_numpy()[both], composite[both]).statistic if graded > 2 else np.nan)
    return {"graded": graded, "share_changed": float(changed), "spearman": float(rho)}


def transition_table(base: pd.Series, other: pd.Series, order: list[str], segment: str = "grade") -> pd.DataFrame:
    """Customers by their ``segment`` (grade or class) under the case's settings (rows) and under the alternative
    (columns, best first), in long form: ``<segment>``, ``to_<segment>``, ``customers``."""
    k = len(order)
    rows, columns = (pd.Categorical(s, order).codes for s in (base, other.reindex(base.index)))
    both = (rows >= 0) & (columns >= 0)  # both segmented, into one of ``order``
    counts = np.bincount(rows[both] * k + columns[both], minlength=k * k)
    return pd.DataFrame({segment: np.repeat(order, k).astype(str), f"to_{segment}": np.tile(order, k).astype(str),
                         "customers": counts.astype(int)})


def variant_comparison(base, variants, chain, compare, segments, order: list[str], segment: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Each alternative compared with the case's own run ``base``: ``chain(variant)`` runs it, ``compare(base,
    run)`` gives its row's figures and ``segments(run)`` its customers' grades or classes.

    Returns
    -------
    table : DataFrame
        ``convention``, ``variant``, the figures of ``compare``, ``status``; first the ``baseline`` (``base``
        compared with itself); an alternative the chain refuses (:class:`~crmlib.errors.InputError`) has no figures
        and its reason as status.
    transitions : DataFrame or None
        :func:`transition_table` of every alternative computed, with its ``convention`` and ``variant``; None
        when there is none.
    """
    baseline = compare(base, base)
    rows, transitions = [{"convention": "baseline", "variant": "case", **baseline, "status": "ok"}], []
    for variant in variants:
        row = {"convention": variant.convention, "variant": variant.value}
        try:
            run = chain(variant)
        except InputError as error:
            rows.append(row | dict.fromkeys(baseline, np.nan) | {"status": error.message})
            continue
        rows.append(row | compare(base, run) | {"status": "ok"})
        transitions.append(transition_table(segments(base), segments(run), order, segment).assign(**row))
    if not transitions:
        return pd.DataFrame(rows), None
    columns = ["convention", "variant", segment, f"to_{segment}", "customers"]
    return pd.DataFrame(rows), pd.concat(transitions, ignore_index=True)[columns]


def bootstrap_stability(z: pd.DataFrame, rules, settings, grading, base: GradedRun, *, replicates: int, seed: int
                        ) -> pd.DataFrame:
    """For each customer, the share of ``replicates`` bootstrap samples in which they keep their grade.

    Each sample draws the customers of ``z`` (:func:`benefit_z_scores` of the data cleaned under ``rules``) with
    replacement (NumPy's PCG64 seeded with ``seed``),
    refits the factors with the case's settings and the number of factors of ``base``, turns each to ``base``'s
    sign (:func:`crmlib.factors.oriented_fit`, by Tucker congruence; their order does not change the composite), and
    scores every customer with the sample's score coefficients and composite weights; the grade bounds are the
    sample's own quantiles of its customers' composites. A sample whose fit fails is left out and counted.

    Returns
    -------
    DataFrame
        Indexed by customer id: ``grade`` (the case's), ``bootstrap_samples`` (samples in which the customer was
        graded), ``same_grade_share`` (the share of them giving the case's grade); ``attrs``: ``replicates`` drawn
        and ``failed`` (left out).
    """
    pairwise = rules.missing == "pairwise"

    values, scoring = z.to_numpy(), factors.scoring_z(z, rules.ddof, settings.impute)

    def grades(rows):
        sample = pd.DataFrame(values[rows], columns=z.columns)
        fit = factors.oriented_fit(factors.correlation_matrix(sample, pairwise), base.fit, settings)
        scores = factors.scores_of_z(scoring, fit, rules.ddof, settings.impute)
        composite = factors.composite_score(scores, factors.composite_weights(fit, settings.composite_weights))
        return grade(composite, grading, reference=pd.Series(composite.to_numpy()[rows]))

    return _bootstrap(base.grades, len(z), replicates, seed, grades, "grade")


def _bootstrap(base: pd.Series, n: int, replicates: int, seed: int, segments, segment: str) -> pd.DataFrame:
    """The bootstrap loop: ``replicates`` samples of the positions 0..n-1 drawn with replacement (NumPy's PCG64
    seeded with ``seed``); ``segments(rows)`` gives each customer's segment under the sample (by customer id;
    missing for a customer it does not segment), compared with ``base``; a sample whose fit fails
    (:class:`~crmlib.errors.InputError`, a singular matrix) is left out and counted."""
    rng = np.random.default_rng(seed)
    known, segments_of_base = base.notna().to_numpy(), base.to_numpy()
    same, counted = np.zeros(len(base), dtype=np.int64), np.zeros(len(base), dtype=np.int64)
    failed = 0
    for _ in range(replicates):
        rows = rng.integers(0, n, size=n)
        try:
            drawn = segments(rows).reindex(base.index).to_numpy()
        except (InputError, np.linalg.LinAlgError):
            failed += 1
            continue
        present = pd.notna(drawn) & known
        counted += present
        same += present & (drawn == segments_of_base)
    return _stability(base, pd.Series(same, index=base.index), pd.Series(counted, index=base.index), replicates,
                      failed, segment)


def _stability(base: pd.Series, same: pd.Series, counted: pd.Series, replicates: int, failed: int, segment: str
               ) -> pd.DataFrame:
    result = pd.DataFrame({segment: base, "bootstrap_samples": counted,
                           f"same_{segment}_share": (same / counted.where(counted > 0)).astype(float)})
    result.attrs |= {"replicates": replicates, "failed": failed}
    return result


def stability_summary(stability: pd.DataFrame, order: list[str], stable_share: float, segment: str = "grade"
                      ) -> pd.DataFrame:
    """Per ``segment`` (grade or class, best first) and over all customers with one: ``customers``,
    ``mean_same_<segment>_share`` (the mean of their shares of samples keeping it), ``share_stable`` (the share of
    them keeping it in at least ``stable_share`` of the samples); ``replicates`` used and ``failed`` (left out)."""
    graded = stability[stability[segment].notna() & (stability["bootstrap_samples"] > 0)]
    share = f"same_{segment}_share"
    rows = []
    for name, members in [(g, graded[graded[segment] == g]) for g in order] + [("all", graded)]:
        rows.append({segment: name, "customers": len(members), f"mean_{share}": members[share].mean(),
                     "share_stable": (members[share] >= stable_share).mean() if len(members) else np.nan})
    return pd.DataFrame(rows).assign(stable_share=stable_share,
                                     replicates=stability.attrs["replicates"] - stability.attrs["failed"],
                                     failed=stability.attrs["failed"])


@dataclass(frozen=True)
class CaseVariant:
    """One alternative of a value matrix: the ``convention`` changed, its ``value`` as text, and the case's params
    with it."""

    convention: str
    value: str
    params: object


def _case_with(params, changes: dict):
    """``params`` validated again (every check of the case) with ``changes``: dotted key -> new value."""
    dump = params.model_dump()
    for key, new in changes.items():
        *path, last = key.split(".")
        node = dump
        for part in path:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = new
    return type(params).model_validate(dump).model_copy(update={"source_file": params.source_file})


def _weightings(dimension) -> list[tuple[str, dict]]:
    """The other weighting methods of a value dimension: entropy, factor analysis and equal weights (AHP needs a
    comparison matrix, which only the case's own settings give)."""
    equal = {"method": "fixed", "values": {i: 1 / len(dimension.indicators) for i in dimension.indicators}}
    methods = {"entropy": {"method": "entropy"}, "factor": {"method": "factor"}, "equal": equal}
    return [(name, spec) for name, spec in methods.items() if name != dimension.weights.method
            and not (name == "equal" and dimension.weights.method == "fixed"
                     and dimension.weights.values == equal["values"])]


def value_variants(params, has_missing: bool, conventions=VALUE_CONVENTIONS) -> list[CaseVariant]:
    """The alternatives to a value-matrix case's settings, one convention at a time: the missing-value policy (only
    when the data have missing values) and winsorizing as :func:`convention_variants` gives them; the other
    normalization; for each dimension, each other weighting method (:func:`_weightings`); for each axis, the mean or
    median threshold it does not use; and, when a dimension is weighted by factor analysis, the other extractions,
    rotations, factor-count rules and composite weights of ``value_matrix.factor_analysis``. Every alternative is
    the whole case validated again: combinations the case's checks refuse (z-scores with entropy weights, pairwise
    deletion with a dimension not weighted by factor analysis) are left out."""
    family = params.value_matrix
    model, matrix = family.model, family.matrix
    factor = any(d.weights.method == "factor" for d in model.dimensions)
    shared = [c for c in conventions if c in CONVENTIONS and (factor or c in ("missing", "winsorize"))]
    changes: dict[str, list] = {}
    for variant in convention_variants(params.cleaning, family.factor_analysis, None, len(params.indicators),
                                       has_missing, shared):
        changes.setdefault(variant.convention, []).append(
            (variant.value, {"cleaning": variant.cleaning.model_dump(),
                             "value_matrix.factor_analysis": variant.settings.model_dump()}))
    changes["normalization"] = [(n, {"value_matrix.model.normalization": n}) for n in ("minmax", "zscore")
                                if n != model.normalization]
    changes["weights"] = [(f"{d.id}: {name}", {f"value_matrix.model.dimensions.{k}.weights": spec})
                          for k, d in enumerate(model.dimensions) for name, spec in _weightings(d)]
    changes["threshold"] = [(f"{axis}: {rule}", {f"value_matrix.matrix.{axis}_threshold": {"rule": rule}})
                            for axis in ("x", "y") for rule in ("mean", "median")
                            if rule != getattr(matrix, f"{axis}_threshold").rule]
    variants = []
    for convention in conventions:
        for text, change in changes.get(convention, []):
            try:
                variants.append(CaseVariant(convention, text, _case_with(params, change)))
            except ValueError:  # a combination the case's checks refuse
                continue
    return variants


@dataclass(frozen=True)
class ClassedRun:
    """Output of :func:`classify`: each customer's ``x`` and ``y`` values and value-matrix ``classes``, and the
    factor ``fits`` of the factor-weighted dimensions."""

    x: pd.Series
    y: pd.Series
    classes: pd.Series
    fits: dict


def classify(data: pd.DataFrame, params, reference: dict | None = None) -> ClassedRun:
    """The value model and matrix of cleaned indicators, as stages 02 to 04 compute them
    (:func:`crmlib.value.normalize_for_value_model`, z-scores in benefit direction,
    :func:`crmlib.value.evaluate_value_model`, :func:`crmlib.segmentation.value_matrix_classes`); with
    ``reference`` fits, factor-weighted dimensions keep their number of factors and orientation."""
    directions = {i.id: i.direction for i in params.indicators}
    z = benefit_z_scores(data, directions, params.cleaning.ddof)
    result = value.evaluate_value_model(value.normalize_for_value_model(data, params), z, params, reference)
    matrix = params.value_matrix.matrix
    classes = segmentation.value_matrix_classes(result.values, matrix)[1]["class"]
    return ClassedRun(result.values[matrix.x], result.values[matrix.y], classes, result.fits)


def compare_classes(base: ClassedRun, other: ClassedRun) -> dict[str, float]:
    """``classified`` (customers classified in both), ``share_changed`` (of them, the share whose class differs),
    ``spearman_x`` and ``spearman_y`` (the rank correlations of their values on each axis)."""
    ids = base.classes.index.intersection(other.classes.index)
    changed = (base.classes[ids] != other.classes[ids]).mean() if len(ids) else np.nan

    def spearman(a: pd.Series, b: pd.Series) -> float:
        return float(stats.spearmanr(a[ids], b[ids]).statistic) if len(ids) > 2 else np.nan

    return {"classified": int(len(ids)), "share_changed": float(changed), "spearman_x": spearman(base.x, other.x),
            "spearman_y": spearman(base.y, other.y)}


def class_bootstrap_stability(data: pd.DataFrame, params, base: ClassedRun, *, replicates: int, seed: int
                              ) -> pd.DataFrame:
    """For each customer, the share of the bootstrap samples that drew them in which they keep their class.

    ``data`` are the indicators cleaned with the case's rules; each sample draws the customers with replacement
    (NumPy's PCG64 seeded with ``seed``) and refits everything on them (:func:`classify`: normalization, weights,
    values, thresholds), so a customer is classified in the samples that drew them (about 63%); a customer drawn
    more than once counts once. A factor-weighted dimension retains ``base``'s number of factors, each aligned to
    ``base``'s by Tucker congruence (:func:`crmlib.factors.oriented_fit`). A sample whose fit fails is left out and
    counted.

    Returns
    -------
    DataFrame
        Indexed by customer id: ``class`` (the case's), ``bootstrap_samples`` (samples that drew the customer),
        ``same_class_share`` (the share of them giving the case's class); ``attrs``: ``replicates`` drawn and
        ``failed`` (left out).
    """
    def classes(rows):
        run = classify(data.iloc[rows].set_axis(pd.RangeIndex(len(rows), name=data.index.name)), params, base.fits)
        drawn = pd.Series(run.classes.to_numpy(), index=data.index[rows])
        return drawn[~drawn.index.duplicated()]

    return _bootstrap(base.classes, len(data), replicates, seed, classes, "class")
