"""Customer value evaluation model: value dimensions as weighted sums of normalized indicators.

Each value dimension (e.g. current value, potential value) takes its own group
of indicators and one weighting method from the params:

- ``entropy``: :func:`crmlib.weights.entropy_weights` on the min-max normalized group;
- ``ahp``: :func:`crmlib.weights.ahp_weights` from the pairwise comparison matrix;
- ``fixed``: the weights written in the params;
- ``factor``: principal-component factor analysis of the group's z-scores (the
  ``value_matrix.factor_analysis`` settings) and the composite
  factor score :math:`F = \\sum_j w_j F_j` as the dimension's value, as in the
  Shaoxing case. The implied indicator weights (score coefficients times factor
  weights) are reported; they may be negative and need not sum to 1. Under
  ``cleaning.missing: pairwise`` (factor-weighted dimensions only) the
  correlations are pairwise and the scores follow ``factor_analysis.impute``.

For the other methods the value is :math:`V_i = \\sum_j w_j x'_{ij}` with
:math:`x'` the normalized indicators (min-max: V in [0, 1]).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import factors, weights
from .indicators import standardize, to_benefit_direction
from .params import CaseParams, ValueModel

__all__ = ["normalize_for_value_model", "percentile_rank", "ValueModelResult", "evaluate_value_model"]


def normalize_for_value_model(data: pd.DataFrame, params: CaseParams) -> pd.DataFrame:
    """Normalize every indicator as the value model asks (min-max with direction, or z-scores)."""
    directions = {i.id: i.direction for i in params.indicators}
    if params.value_matrix.model.normalization == "zscore":
        return standardize(to_benefit_direction(data, directions), ddof=params.cleaning.ddof)
    return weights.minmax_normalize(data, directions, where={"file": params.source_file,
                                                            "key": "value_matrix.model.dimensions"})


def percentile_rank(values: pd.Series) -> pd.Series:
    """Share of customers whose value is at most this customer's (ties share the highest rank), in (0, 1]."""
    return values.rank(method="max", pct=True)


@dataclass(frozen=True)
class ValueModelResult:
    """Output of :func:`evaluate_value_model`.

    Attributes
    ----------
    weights : DataFrame
        ``dimension``, ``indicator``, ``method``, ``weight``, and for entropy
        weights ``entropy`` and ``divergence``.
    consistency : DataFrame
        AHP dimensions only: ``dimension``, ``n``, ``lambda_max``,
        ``consistency_index``, ``random_index``, ``consistency_ratio``.
    values : DataFrame
        Indexed by customer id: one column per dimension and its
        ``<dimension>_percentile``.
    coverage : DataFrame or None
        Under pairwise deletion, one row per factor-weighted dimension: ``dimension`` and
        :func:`crmlib.factors.score_coverage`'s counts.
    fits : dict
        The factor fit of each factor-weighted dimension, by dimension id.
    """

    weights: pd.DataFrame
    consistency: pd.DataFrame
    values: pd.DataFrame
    coverage: pd.DataFrame | None = None
    fits: dict = field(default_factory=dict)


def evaluate_value_model(normalized: pd.DataFrame, z: pd.DataFrame, params: CaseParams,
                         reference: dict | None = None) -> ValueModelResult:
    """Weights and values of every dimension of the case's value model.

    Parameters
    ----------
    normalized : DataFrame
        Indicators normalized by :func:`normalize_for_value_model`.
    z : DataFrame
        z-scores with benefit direction (stage 02), used by the ``factor`` method.
    reference : dict, optional
        Factor fits by dimension id (a full sample's :attr:`ValueModelResult.fits`): each factor-weighted dimension
        then retains the reference's number of factors, with their signs turned to match it
        (:func:`crmlib.factors.oriented_fit`), as a bootstrap sample is fitted.
    """
    model: ValueModel = params.value_matrix.model
    weight_rows, consistency_rows, coverage_rows, values, fits = [], [], [], {}, {}
    for position, dimension in enumerate(model.dimensions):
        spec = dimension.weights
        where = {"file": params.source_file, "key": f"value_matrix.model.dimensions.{position}.weights"}
        group = normalized[dimension.indicators]
        table = pd.DataFrame({"indicator": dimension.indicators})
        if spec.method == "factor":
            data, settings = z[dimension.indicators], params.value_matrix.factor_analysis
            pairwise = params.cleaning.missing == "pairwise"
            corr = factors.correlation_matrix(data, pairwise)
            if reference is None:
                composite = factors.fit_composite(corr, len(data), settings, file=params.data_path)
                fit, w = composite.fit, composite.weights
            else:
                fit = factors.oriented_fit(corr, reference[dimension.id], settings, file=params.data_path)
                w = factors.composite_weights(fit, settings.composite_weights)
            fits[dimension.id] = fit
            value = factors.composite_score(factors.factor_scores(data, fit, params.cleaning.ddof, settings.impute), w)
            table["weight"] = (fit.score_coefficients @ w).to_numpy()
            if pairwise:
                counts = factors.score_coverage(len(data), int(data.notna().all(axis=1).sum()), settings.impute)
                coverage_rows.append(counts.assign(dimension=dimension.id)[["dimension", *counts.columns]])
        else:
            if spec.method == "entropy":
                table = weights.entropy_weights(group)
                w = table.set_index("indicator")["weight"]
            elif spec.method == "ahp":
                where = {"file": params.source_file, "key": f"{where['key']}.matrix"}
                result = weights.ahp_weights(spec.matrix, dimension.indicators, spec.random_index, where=where)
                weights.check_consistency(result, where=where)
                consistency_rows.append(result.summary().assign(dimension=dimension.id))
                w = result.weights
            else:
                w = weights.fixed_weights(spec.values, dimension.indicators, where=where)
            table["weight"] = w.to_numpy()
            value = group @ w
        weight_rows.append(table.assign(dimension=dimension.id, method=spec.method))
        values[dimension.id] = value
        values[f"{dimension.id}_percentile"] = percentile_rank(value)
    columns = ["dimension", "indicator", "method", "weight"]
    weight_table = pd.concat(weight_rows, ignore_index=True)
    weight_table = weight_table[columns + [c for c in ("entropy", "divergence") if c in weight_table]]
    consistency = (pd.concat(consistency_rows, ignore_index=True) if consistency_rows
                   else pd.DataFrame(columns=["dimension", "n", "lambda_max", "consistency_index", "random_index",
                                              "consistency_ratio"]))
    consistency = consistency[["dimension", "n", "lambda_max", "consistency_index", "random_index",
                               "consistency_ratio"]]
    coverage = pd.concat(coverage_rows, ignore_index=True) if coverage_rows else None
    return ValueModelResult(weight_table, consistency, pd.DataFrame(values, index=normalized.index), coverage, fits)
