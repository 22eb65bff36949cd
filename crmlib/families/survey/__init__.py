"""Survey (SZ staff questionnaire and interviews; the A branch customer questionnaire; a public satisfaction
survey): reliability and validity of a questionnaire, problem ranking, group comparison, coded interviews and a
problem table."""
from .. import Family, Figure
from .params import Survey
from .tables import TABLES

FAMILY = Family(
    package=__name__,
    title_en="Questionnaire",
    title_zh="问卷调查",
    key="survey",
    model=Survey,
    tables=TABLES,
    engine_path="memory",
    reads={"01_clean": ("survey",), "02_indicators": ("survey",), "03_factor_analysis": ("survey",),
           "04_segmentation": ("survey",), "05_strategy": ("survey",)},
    conditions={"comparison": lambda params: params.survey.comparison is not None,
                "oblique": lambda params: params.survey.efa.rotation in ("oblimin", "promax"),
                "interviews": lambda params: params.survey.interviews is not None,
                "pairwise": lambda params: params.survey.missing == "pairwise",
                "dimensions": lambda params: len(params.survey.dimensions) > 1,
                "cfa": lambda params: params.survey.confirmatory_blocks() is not None,
                "constructs": lambda params: (params.survey.confirmatory_blocks() is not None
                                              and len(params.survey.dimensions) > 1),
                "invariance": lambda params: (params.survey.confirmatory_blocks() is not None
                                              and params.survey.comparison is not None)},
    figures=(Figure("item_scree", "03_factor_analysis", "Scree plot of the items with the parallel-analysis line",
                    "题项碎石图与平行分析线", "scree_plot"),
             Figure("item_loadings", "03_factor_analysis", "Factor loadings of the items", "题项因子载荷",
                    "loadings_heatmap"),
             Figure("problem_ranking", "04_segmentation", "Problem ranking", "问题排序", "problem_ranking_plot")),
)
