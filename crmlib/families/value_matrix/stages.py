"""Stages of the value-matrix family: normalized indicators (02), the value model (03), the value matrix and
relationship stages (04), strategies per class and stage (05)."""
from __future__ import annotations

import pandas as pd

from ... import io, robustness, segmentation, strategy, value
from . import robust


def build_indicators(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 02: the indicators normalized as the value model asks."""
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    return {"normalized_indicators": value.normalize_for_value_model(data, params)}


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: indicator weights per value dimension (entropy, AHP, factor, fixed) and each customer's values."""
    normalized = io.read_table(directory, "normalized_indicators", index="customer_id")
    z = io.read_table(directory, "standardized_indicators", index="customer_id")
    result = value.evaluate_value_model(normalized, z, params)
    coverage = {} if result.coverage is None else {"value_score_coverage": result.coverage}
    return {"value_weights": result.weights, "ahp_consistency": result.consistency,
            "customer_values": result.values} | coverage


def segment(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: classes of the value matrix, their sizes and indicator means, relationship stages."""
    matrix = params.value_matrix.matrix
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    values = io.read_table(directory, "customer_values", index="customer_id")
    thresholds, classes = segmentation.value_matrix_classes(values, matrix)
    if matrix.relationship_stages is not None:
        stages = matrix.relationship_stages
        classes["stage"] = segmentation.relationship_stage(data.loc[classes.index, stages.indicator], stages)
    dimensions = [d.id for d in params.value_matrix.model.dimensions]
    order = [c.id for c in matrix.classes.values()]
    extra = class_robustness(params) if robust(params) else {}
    return extra | {
        "value_thresholds": thresholds,
        "customer_classes": classes,
        "class_summary": segmentation.class_summary(classes, data.loc[classes.index], matrix),
        "class_indicator_means": segmentation.segment_means(classes["class"], data.loc[classes.index], order),
        "middle_band": segmentation.middle_band_share(values, dimensions, matrix.middle_band),
    }


def class_robustness(params) -> dict[str, pd.DataFrame]:
    """How much the classes depend on the choices (:mod:`crmlib.robustness`), in memory, from the indicators as
    stage 01 reads them (on a hash sample of ``robustness.max_customers`` above that size): the case's own chain
    again (``baseline``, which must reproduce stage 04's classes), each alternative convention one at a time, and
    the bootstrap stability of every customer's class."""
    settings = params.value_matrix.robustness
    raw, customers = robustness.case_measures(params, settings)
    cleaned = robustness.CleanedMeasures(raw)
    base = robustness.classify(cleaned(params.cleaning), params)
    order = [c.id for c in params.value_matrix.matrix.classes.values()]
    variants = robustness.value_variants(params, bool(raw.isna().to_numpy().any()), settings.conventions)
    table, transitions = robustness.variant_comparison(
        base, variants, lambda variant: robustness.classify(cleaned(variant.params.cleaning), variant.params),
        robustness.compare_classes,
        lambda run: run.classes, order, "class")
    tables = {"class_robustness": table.astype({"classified": "Int64"}),
              "class_robustness_customers": pd.DataFrame([{"customers": customers, "analysed": len(raw)}])}
    if transitions is not None:
        tables["class_transitions"] = transitions
    if settings.replicates > 0:
        stability = robustness.class_bootstrap_stability(cleaned(params.cleaning), params, base,
                                                         replicates=settings.replicates,
                                                         seed=settings.seed)
        tables["class_stability"] = stability.rename_axis("customer_id").reset_index()
        tables["class_stability_summary"] = robustness.stability_summary(stability, order, settings.stable_share,
                                                                         "class")
    return tables


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: strategies per value class, and per relationship stage when the params define stages."""
    matrix = params.value_matrix.matrix
    tables = {"class_strategy": strategy.class_strategy_table(matrix, io.read_table(directory, "class_summary"))}
    if matrix.relationship_stages is not None:
        classes = io.read_table(directory, "customer_classes", index="customer_id")
        tables["stage_strategy"] = strategy.stage_strategy_table(matrix, classes["class"], classes["stage"])
    return tables
