"""What the value-matrix sections and report show beyond plain tables: value distributions and the figures."""
from __future__ import annotations

import pandas as pd

from IPython.display import Markdown

from ... import figures, io, report
from ...labels import Language, named_labels, text


def value_summary(tables: dict, params) -> pd.DataFrame:
    """Distribution of each value dimension over customers (count, mean, sd, quantiles): aggregates only."""
    dimensions = [d.id for d in params.value_matrix.model.dimensions]
    return tables["customer_values"][dimensions].describe().T.rename_axis("dimension")


def factor_method_text(params, lang: Language = "en") -> str:
    """The value dimensions weighted by factor analysis, and its extraction, rotation and score method."""
    dimensions = [d.id for d in params.value_matrix.model.dimensions if d.weights.method == "factor"]
    return (text("value_factor_method", lang, dimensions=", ".join(dimensions))
            + report.factor_method_text(params.value_matrix.factor_analysis, lang))


def factor_method(params) -> Markdown:
    """:func:`factor_method_text` for a notebook."""
    return Markdown(factor_method_text(params))


def robustness_text(tables: dict, params, lang: Language = "en") -> str:
    """How much the classification depends on the choices (:func:`crmlib.report.robustness_text`)."""
    return report.robustness_text(tables, ("class_robustness", "class_stability_summary",
                                           "class_robustness_customers"), "class", lang)


def robustness_plot(tables: dict, params, lang: Language = "en"):
    """The share of customers changing class under each alternative convention
    (:func:`crmlib.report.robustness_plot`)."""
    return report.robustness_plot(tables, ("class_robustness", "class_stability_summary"), "class", lang)


def report_notes(tables: dict, params, lang: Language = "en") -> dict[str, list[str]]:
    """The factor-analysis method of the dimensions it weights (stage 03), when there are any, and, under pairwise
    deletion, how each dimension scored the customers with a missing indicator; how much the classification
    depends on the choices (stage 04)."""
    factor = any(d.weights.method == "factor" for d in params.value_matrix.model.dimensions)
    coverage = [f"{row['dimension']}: {report.score_coverage_text(row, lang)}"
                for _, row in tables.get("value_score_coverage", pd.DataFrame()).iterrows()]
    notes = {"03_factor_analysis": [factor_method_text(params, lang), *coverage]} if factor else {}
    robustness = robustness_text(tables, params, lang)
    return notes | ({"04_segmentation": [robustness]} if robustness else {})


def class_bar_chart(tables: dict, params, lang: Language = "en"):
    """Customers per value class, best first, in the rank colours."""
    return figures.segment_bar_chart(tables["class_summary"], "class", named_labels(params, lang), lang)


def value_matrix_plot(tables: dict, params, lang: Language = "en"):
    """The customer value matrix: x value against y value, threshold lines, one rank colour per class."""
    matrix = params.value_matrix.matrix
    values = tables["customer_values"].set_index("customer_id")
    classes = tables["customer_classes"].set_index("customer_id")["class"]
    thresholds = tables["value_thresholds"].set_index("axis")["threshold"]
    order = [c.id for c in matrix.classes.values()]
    return figures.value_matrix_plot(values, classes, order, matrix.x, matrix.y, (thresholds["x"], thresholds["y"]),
                                     named_labels(params, lang), lang)


def check_summary(params, directory) -> list[str]:
    """``crmlib check``'s lines on the value classes (stage tables in ``directory``)."""
    classes = io.read_table(directory, "class_summary")
    return ["classes: " + ", ".join(f"{name} {count}" for name, count in zip(classes["class"], classes["customers"]))]
