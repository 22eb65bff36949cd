"""What the value-matrix sections and report show beyond plain tables: value distributions and the figures."""
from __future__ import annotations

import pandas as pd

from ... import figures, io
from ...labels import Language, named_labels


def value_summary(tables: dict, params) -> pd.DataFrame:
    """Distribution of each value dimension over customers (count, mean, sd, quantiles): aggregates only."""
    dimensions = [d.id for d in params.value_matrix.model.dimensions]
    return tables["customer_values"][dimensions].describe().T.rename_axis("dimension")


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
