"""Stages of the value-matrix family: normalized indicators (02), the value model (03), the value matrix and
relationship stages (04), strategies per class and stage (05)."""
from __future__ import annotations

import pandas as pd

from ... import io, segmentation, strategy, value


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
    return {
        "value_thresholds": thresholds,
        "customer_classes": classes,
        "class_summary": segmentation.class_summary(classes, data.loc[classes.index], matrix),
        "class_indicator_means": segmentation.segment_means(classes["class"], data.loc[classes.index], order),
        "middle_band": segmentation.middle_band_share(values, dimensions, matrix.middle_band),
    }


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: strategies per value class, and per relationship stage when the params define stages."""
    matrix = params.value_matrix.matrix
    tables = {"class_strategy": strategy.class_strategy_table(matrix, io.read_table(directory, "class_summary"))}
    if matrix.relationship_stages is not None:
        classes = io.read_table(directory, "customer_classes", index="customer_id")
        tables["stage_strategy"] = strategy.stage_strategy_table(matrix, classes["class"], classes["stage"])
    return tables
