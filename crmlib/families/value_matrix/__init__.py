"""Value matrix (JD; German Credit): current and potential customer value, the value matrix (platinum, gold, iron,
lead), relationship stages, and a strategy per class and stage."""
from .. import Family, Figure
from .params import ValueMatrixFamily
from .tables import TABLES

_OLD_MATRIX_KEYS = ("x", "y", "x_threshold", "y_threshold", "high_high", "high_low", "low_high", "low_low",
                    "middle_band", "value_share_basis", "source", "relationship_stages")


def _has_matrix(params) -> bool:
    return params.value_matrix.matrix is not None


def robust(params) -> bool:
    """Whether the case classifies its customers and asks for the robustness of the classes."""
    return _has_matrix(params) and params.value_matrix.robustness is not None


FAMILY = Family(
    package=__name__,
    title_en="Customer value matrix",
    title_zh="客户价值矩阵",
    key="value_matrix",
    model=ValueMatrixFamily,
    tables=TABLES,
    reads={"02_indicators": ("cleaning.ddof", "value_matrix.model"),
           "03_factor_analysis": ("cleaning.ddof", "cleaning.missing", "value_matrix.model",
                                  "value_matrix.factor_analysis"),
           "04_segmentation": ("cleaning", "data", "indicators", "value_matrix"),
           "05_strategy": ("value_matrix.matrix",)},
    stage_conditions={"04_segmentation": _has_matrix, "05_strategy": _has_matrix},
    conditions={"relationship_stages": lambda params: params.value_matrix.matrix.relationship_stages is not None,
                "ahp": lambda params: any(d.weights.method == "ahp" for d in params.value_matrix.model.dimensions),
                "factor": lambda params: any(d.weights.method == "factor"
                                             for d in params.value_matrix.model.dimensions),
                "robustness": robust,
                "stability": lambda params: robust(params) and params.value_matrix.robustness.replicates > 0},
    figures=(Figure("class_sizes", "04_segmentation", "Customers per value class", "各价值类别的客户数",
                    "class_bar_chart"),
             Figure("value_matrix", "04_segmentation", "Customer value matrix", "客户价值矩阵",
                    "value_matrix_plot"),
             Figure("class_robustness", "04_segmentation", "How much this classification depends on the choices",
                    "客户分类结果对方法选择的依赖程度", "robustness_plot")),
    moved={"value_model": "value_matrix.model"} | {f"value_matrix.{key}": f"value_matrix.matrix.{key}"
                                                   for key in _OLD_MATRIX_KEYS},
)
