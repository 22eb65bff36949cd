"""Factor grading (Shaoxing; ISLR Credit): factor analysis of the indicators, a composite score, grades, and a
strategy per grade."""
from .. import Family, Figure
from .params import FactorGrading
from .tables import TABLES


def _graded(params) -> bool:
    return params.factor_grading.grading is not None


def robust(params) -> bool:
    """Whether the case asks for the robustness of its grades and has the customers it needs (not a published
    matrix)."""
    return _graded(params) and params.factor_grading.robustness is not None and params.data.matrix is None


FAMILY = Family(
    package=__name__,
    title_en="Factor analysis and grading",
    title_zh="因子分析与客户评级",
    key="factor_grading",
    model=FactorGrading,
    tables=TABLES,
    reads={"03_factor_analysis": ("cleaning.ddof", "cleaning.missing", "factor_grading.factor_analysis",
                                  "factor_grading.factor_names", "indicators"),
           "04_segmentation": ("cleaning", "data", "indicators", "factor_grading.factor_analysis",
                               "factor_grading.grading", "factor_grading.robustness"),
           "05_strategy": ("factor_grading.grading",)},
    stage_conditions={"04_segmentation": _graded, "05_strategy": _graded},
    conditions={"oblique": lambda params: params.factor_grading.factor_analysis.rotation in ("promax", "oblimin"),
                "pairwise": lambda params: params.cleaning.missing == "pairwise" and params.data.matrix is None,
                "robustness": lambda params: robust(params),
                "stability": lambda params: robust(params) and params.factor_grading.robustness.replicates > 0},
    figures=(Figure("scree", "03_factor_analysis", "Scree plot with the parallel-analysis line",
                    "碎石图与平行分析线", "scree_plot"),
             Figure("loadings_heatmap", "03_factor_analysis", "Rotated factor loadings", "旋转后的因子载荷",
                    "loadings_heatmap"),
             Figure("score_histogram", "04_segmentation", "Composite scores and the grade cut-offs",
                    "综合得分分布与等级分界", "score_histogram"),
             Figure("grade_sizes", "04_segmentation", "Customers per grade", "各等级的客户数", "grade_bar_chart"),
             Figure("biplot", "04_segmentation", "Biplot of the factor scores", "因子得分双标图", "biplot"),
             Figure("grading_robustness", "04_segmentation", "How much this grading depends on the choices",
                    "评级结果对方法选择的依赖程度", "robustness_plot")),
    moved={"factor_analysis": "factor_grading.factor_analysis", "grading": "factor_grading.grading"},
    engine_path="engine",
    takes_matrix=True,
)
