"""Case parameters: one YAML file per case, validated by one schema.

A case is everything that differs between studies: where the data is and how it
is laid out, the indicator system, the cleaning rules, the factor-analysis
settings, the grading rule and the strategy table. Every default lives in this
module, in the field declarations below, so there is one place to read them.

Paths inside a params file are relative to that file. Unknown keys are errors,
so a misspelt option is never silently ignored.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError
from .weights import ahp_weights, check_consistency

__all__ = [
    "UNITS",
    "STAGES",
    "Indicator",
    "DataSource",
    "ReportSettings",
    "CleaningRules",
    "FactorCount",
    "FactorAnalysisSettings",
    "Grade",
    "Grading",
    "WeightSpec",
    "ValueDimension",
    "ValueModel",
    "AxisThreshold",
    "ValueClass",
    "RelationshipStage",
    "RelationshipStages",
    "ValueMatrix",
    "Scale",
    "SurveyItem",
    "SurveyDimension",
    "Attribute",
    "Comparison",
    "EFASettings",
    "InterviewTheme",
    "Interviews",
    "Survey",
    "Tier",
    "Tiers",
    "Bootstrap",
    "Concentration",
    "Panel",
    "ChurnFlag",
    "LifecycleStage",
    "Lifecycle",
    "ChurnModel",
    "CustomerBase",
    "SyntheticIndicator",
    "SyntheticSpec",
    "SyntheticFeature",
    "SyntheticPanelSpec",
    "CaseParams",
    "load_params",
    "find_params",
    "list_cases",
]

#: Amount units understood in data cells and headers, as multiples of one yuan.
#: A cell such as ``"1,234.5万元"`` is converted to the indicator's declared unit.
UNITS: dict[str, float] = {"元": 1.0, "千元": 1e3, "万元": 1e4, "百万元": 1e6, "亿元": 1e8}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: The stage notebooks, in order; a stage is named by its number or full name.
STAGES = ("01_clean", "02_indicators", "03_factor_analysis", "04_segmentation", "05_strategy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_arguments(kind: str, chosen: str, arguments: dict[str, tuple[str, object]]) -> None:
    """Each argument ``name`` (mapped from the option it belongs to) is given with, and only with, its option."""
    for option, (name, value) in arguments.items():
        if (chosen == option) != (value is not None):
            raise ValueError(f"`{name}` is given with, and only with, {kind} '{option}'")


class Indicator(_Strict):
    """One indicator of the index system."""

    id: str = Field(description="Identifier used in code and output tables (ASCII).")
    label_en: str
    label_zh: str
    unit: str = Field(description="Unit of the values, e.g. 万元, %, years, count, score.")
    direction: Literal["benefit", "cost"] = Field(
        description="benefit: larger is better for the bank; cost: smaller is better."
    )
    dimension: str = Field(description="Dimension of the index system it belongs to.")
    column: str | None = Field(
        default=None, description="Header of the column in the data file (defaults to id)."
    )
    codes: dict[str, float] | None = Field(
        default=None, description="Numbers for text answers, e.g. {no: 0, yes: 1} or {否: 0, 是: 1}; other text is an error."
    )

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"indicator id '{value}' must be letters, digits and _ (not starting with a digit)")
        return value

    @property
    def source_column(self) -> str:
        return self.column if self.column is not None else self.id


class DataSource(_Strict):
    """Where a case's customer file is and how to read it."""

    path: Path = Field(description="CSV or Excel file, relative to the params file.")
    kind: Literal["synthetic", "real"] = Field(description="Synthetic data is labelled as such in every report.")
    provenance: str = Field(description="Where the data comes from (source, citation, licence or generator).")
    citation: str = Field(default="", description="How to cite a real data set (shown in the case report).")
    licence: str = Field(default="", description="The licence of a real data set (shown in the case report).")
    id_column: str | None = Field(
        default=None, description="Customer id column; without one, customers are numbered by data row."
    )
    encoding: Literal["auto", "utf-8", "gb18030"] = Field(
        default="auto", description="CSV text encoding; auto tries UTF-8 and then GB18030."
    )
    sheet: str | int = Field(default=0, description="Excel sheet name or 0-based position.")
    header_row: int = Field(default=1, ge=1, description="1-based row that holds the column headers.")


class CleaningRules(_Strict):
    """Rules of the cleaning stage, applied in this order: winsorize, then missing values."""

    missing: Literal["drop", "median", "mean"] = Field(
        default="drop",
        description="drop: listwise deletion (SPSS default); median/mean: impute each indicator "
        "with the statistic of its observed, winsorized values.",
    )
    winsorize: tuple[float, float] | None = Field(
        default=(0.01, 0.99),
        description="Lower and upper quantiles (linear interpolation, R type 7) of the observed values "
        "at which each indicator is clipped; null turns winsorizing off.",
    )
    ddof: Literal[0, 1] = Field(
        default=1, description="Delta degrees of freedom of the standard deviation used in z-scores."
    )

    @field_validator("winsorize")
    @classmethod
    def _quantiles_ordered(cls, value):
        if value is not None and not (0.0 <= value[0] < value[1] <= 1.0):
            raise ValueError("winsorize quantiles must satisfy 0 <= lower < upper <= 1")
        return value


class FactorCount(_Strict):
    """Rule for the number of factors to retain."""

    rule: Literal["kaiser", "fixed", "parallel"] = Field(
        default="kaiser",
        description="kaiser: eigenvalues > 1; fixed: n; parallel: Horn's parallel analysis.",
    )
    n: int | None = Field(default=None, ge=1, description="Number of factors for rule 'fixed'.")
    iterations: int = Field(default=100, ge=10, description="Random data sets for parallel analysis (run under every rule: the scree plot shows it).")
    quantile: float = Field(
        default=0.95, gt=0, lt=1, description="Quantile of the random eigenvalues to beat (parallel analysis)."
    )
    seed: int = Field(default=20240508, description="Seed of the random data of parallel analysis.")

    @model_validator(mode="after")
    def _fixed_needs_n(self):
        _check_arguments("rule", self.rule, {"fixed": ("n", self.n)})
        return self


class FactorAnalysisSettings(_Strict):
    """Factor-analysis stage settings (principal-component extraction as in SPSS and psych::principal)."""

    extraction: Literal["principal"] = "principal"
    n_factors: FactorCount = FactorCount()
    rotation: Literal["varimax", "none"] = "varimax"
    kaiser_normalization: bool = Field(default=True, description="Row-normalize loadings before varimax (SPSS, psych).")
    composite_weights: Literal["rotated_variance", "eigenvalue"] = Field(
        default="rotated_variance",
        description="w_j = rotated SS loadings share (default) or unrotated eigenvalue share of the retained total.",
    )
    max_condition_number: float = Field(
        default=1e10,
        gt=1,
        description="Largest accepted ratio of the correlation matrix's largest to smallest eigenvalue.",
    )


class _Segment(_Strict):
    """A named segment (grade, value class, relationship stage) with its strategies, in both languages."""

    id: str
    label_en: str
    label_zh: str
    strategies_en: list[str] = []
    strategies_zh: list[str] = []


class Grade(_Segment):
    """One grade of the grading rule, with its problem and strategies."""

    lower: float | None = Field(
        default=None,
        description="Lower bound of the grade: a quantile of the composite score (method quantile) or a score "
        "(method cutoff). The lowest grade has none.",
    )
    problem_en: str = ""
    problem_zh: str = ""


class Grading(_Strict):
    """Grades from best to worst; a customer gets the first grade whose lower bound it reaches."""

    method: Literal["quantile", "cutoff"] = "quantile"
    source: str = Field(default="", description="Where the grades' problems and strategies come from.")
    grades: list[Grade] = Field(min_length=2)

    @model_validator(mode="after")
    def _bounds_descend(self):
        bounds = [g.lower for g in self.grades]
        if bounds[-1] is not None:
            raise ValueError("the last (lowest) grade must not have a lower bound")
        if any(b is None for b in bounds[:-1]):
            raise ValueError("every grade but the last needs a lower bound")
        if any(a <= b for a, b in zip(bounds[:-2], bounds[1:-1])):
            raise ValueError("lower bounds must decrease strictly from the best grade to the worst")
        if self.method == "quantile" and not all(0 < b < 1 for b in bounds[:-1]):
            raise ValueError("quantile lower bounds must lie strictly between 0 and 1")
        ids = [g.id for g in self.grades]
        if len(set(ids)) != len(ids):
            raise ValueError("grade ids must be unique")
        return self


class WeightSpec(_Strict):
    """How the indicators of one value dimension are weighted."""

    method: Literal["entropy", "ahp", "factor", "fixed"] = Field(
        description="entropy: entropy weight method; ahp: principal eigenvector of `matrix`; factor: the "
        "dimension's value is the composite factor score of its indicators (factor_analysis settings); "
        "fixed: `values`."
    )
    matrix: list[list[float | str]] | None = Field(
        default=None, description="AHP pairwise comparison matrix, rows and columns in the order of `indicators`."
    )
    random_index: float | None = Field(default=None, gt=0, description="AHP random index for n > 10.")
    values: dict[str, float] | None = Field(default=None, description="Fixed weights by indicator id.")

    @model_validator(mode="after")
    def _arguments_match_method(self):
        _check_arguments("method", self.method, {"ahp": ("matrix", self.matrix), "fixed": ("values", self.values)})
        return self


class ValueDimension(_Strict):
    """One dimension of the customer value model (e.g. current value, potential value)."""

    id: str
    label_en: str
    label_zh: str
    indicators: list[str] = Field(min_length=1)
    weights: WeightSpec


class ValueModel(_Strict):
    """Customer value evaluation model: each dimension a weighted sum of normalized indicators."""

    normalization: Literal["minmax", "zscore"] = Field(
        default="minmax",
        description="minmax: (x - min)/(max - min), cost indicators (max - x)/(max - min), in [0, 1]; "
        "zscore: z-scores with benefit direction (entropy weights need minmax).",
    )
    dimensions: list[ValueDimension] = Field(min_length=1)

    @model_validator(mode="after")
    def _entropy_needs_minmax(self):
        if self.normalization == "zscore" and any(d.weights.method == "entropy" for d in self.dimensions):
            raise ValueError("entropy weights need non-negative values: use normalization 'minmax'")
        return self


class AxisThreshold(_Strict):
    """Where an axis of the value matrix is split into high and low (high: value >= threshold)."""

    rule: Literal["mean", "median", "quantile", "fixed"] = "median"
    q: float | None = Field(default=None, gt=0, lt=1, description="Quantile level for rule 'quantile'.")
    value: float | None = Field(default=None, description="Threshold for rule 'fixed'.")

    @model_validator(mode="after")
    def _arguments_match_rule(self):
        _check_arguments("rule", self.rule, {"quantile": ("q", self.q), "fixed": ("value", self.value)})
        return self


class ValueClass(_Segment):
    """A class of the value matrix with its strategies."""


class RelationshipStage(_Segment):
    """A stage of the customer relationship, by an indicator's value (lower bound inclusive)."""

    lower: float | None = Field(default=None, description="Lower bound on the stage indicator; none for the first.")


class RelationshipStages(_Strict):
    """Relationship stages, in increasing order of the stage indicator (e.g. years of relationship)."""

    indicator: str
    stages: list[RelationshipStage] = Field(min_length=2)

    @model_validator(mode="after")
    def _bounds_increase(self):
        bounds = [s.lower for s in self.stages]
        if bounds[0] is not None or any(b is None for b in bounds[1:]):
            raise ValueError("the first stage has no lower bound and every later stage has one")
        if any(a >= b for a, b in zip(bounds[1:-1], bounds[2:])):
            raise ValueError("stage lower bounds must increase")
        return self


class ValueMatrix(_Strict):
    """The customer value matrix: two value dimensions split into high and low give four classes."""

    x: str = Field(description="Value dimension on the horizontal axis (e.g. current value).")
    y: str = Field(description="Value dimension on the vertical axis (e.g. potential value).")
    x_threshold: AxisThreshold = AxisThreshold()
    y_threshold: AxisThreshold = AxisThreshold()
    high_high: ValueClass
    high_low: ValueClass = Field(description="high x, low y")
    low_high: ValueClass = Field(description="low x, high y")
    low_low: ValueClass
    middle_band: tuple[float, float] = Field(
        default=(1 / 3, 2 / 3),
        description="Band of the min-max scaled value in which a customer counts as 'middle level'.",
    )
    value_share_basis: str = Field(
        default="minmax",
        description="Share of total x value per class: 'minmax' (min-max scaled x value, non-negative) or an "
        "indicator id whose raw values (e.g. a contribution in 万元) are summed.",
    )
    source: str = Field(default="", description="Where the class mapping and strategies come from.")
    relationship_stages: RelationshipStages | None = None

    @property
    def classes(self) -> dict[str, ValueClass]:
        return {"high_high": self.high_high, "high_low": self.high_low, "low_high": self.low_high,
                "low_low": self.low_low}


class Scale(_Strict):
    """Answer scale of questionnaire items, e.g. 1-5 Likert or 0-10."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min < self.max:
            raise ValueError("scale min must be below max")
        return self


class SurveyItem(_Strict):
    """One questionnaire item."""

    id: str
    wording_en: str
    wording_zh: str
    dimension: str
    reverse: bool = Field(default=False, description="Reverse-keyed: scored as min + max - answer.")
    column: str | None = Field(default=None, description="Header in the response file (defaults to id).")
    scale: Scale | None = Field(default=None, description="The item's own scale (defaults to the survey's).")
    codes: dict[str, float] | None = Field(default=None, description="Numbers for text answers (e.g. 非常同意: 5).")

    @property
    def source_column(self) -> str:
        return self.column if self.column is not None else self.id

    @property
    def unit(self) -> str:
        return "point"


class SurveyDimension(_Strict):
    """A dimension of the questionnaire and the CRM problem it measures."""

    id: str
    label_en: str
    label_zh: str
    problem_en: str = ""
    problem_zh: str = ""
    cause_en: str = Field(default="", description="Cause category (e.g. concept, technology, coordination, incentive).")
    cause_zh: str = ""
    countermeasures_en: list[str] = []
    countermeasures_zh: list[str] = []


class Attribute(_Strict):
    """A respondent attribute (role, branch, customer tier, gender, ...), read as text."""

    id: str
    column: str
    label_en: str
    label_zh: str


class Comparison(_Strict):
    """Comparison of dimension scores between the groups of one respondent attribute."""

    attribute: str
    method: Literal["parametric", "rank"] = Field(
        default="parametric",
        description="parametric: Welch t-test (2 groups) or one-way ANOVA; rank: Mann-Whitney U or Kruskal-Wallis.",
    )


class EFASettings(_Strict):
    """Exploratory factor analysis of the items (validity)."""

    extraction: Literal["principal", "minres"] = "minres"
    rotation: Literal["varimax", "oblimin", "promax", "none"] = "oblimin"
    n_factors: FactorCount = FactorCount()
    min_loading: float = Field(default=0.4, gt=0, lt=1, description="Loadings below this are blanked in the display.")

    @model_validator(mode="after")
    def _principal_is_orthogonal(self):
        if self.extraction == "principal" and self.rotation not in {"varimax", "none"}:
            raise ValueError("principal extraction is rotated with varimax or none; use minres for oblique rotations")
        return self


class InterviewTheme(_Strict):
    """A theme code of the coded interviews and the dimension (problem) it speaks to."""

    code: str
    label_en: str
    label_zh: str
    dimension: str


class Interviews(_Strict):
    """A coded-interview file: one row per (respondent, theme code) mention."""

    path: Path
    respondent_column: str
    theme_column: str
    themes: list[InterviewTheme] = Field(min_length=1)


class Survey(_Strict):
    """A questionnaire: items, dimensions (problems), respondent attributes and the analyses to run."""

    scale: Scale
    items: list[SurveyItem] = Field(min_length=2)
    dimensions: list[SurveyDimension] = Field(min_length=1)
    attributes: list[Attribute] = []
    out_of_scale: Literal["error", "missing"] = Field(
        default="error", description="An answer outside its item's scale: stop, or set it to missing and count it."
    )
    straight_lining: Literal["flag", "drop"] = Field(
        default="flag", description="Respondents giving one identical answer to every item: flag them, or drop them."
    )
    disagree_at_most: float | None = Field(
        default=None, description="Answers up to this count as disagreement (default: below the scale midpoint)."
    )
    confidence: float = Field(default=0.95, gt=0, lt=1)
    comparison: Comparison | None = None
    efa: EFASettings = EFASettings()
    interviews: Interviews | None = None

    @model_validator(mode="after")
    def _consistent(self):
        dimensions = [d.id for d in self.dimensions]
        items = [i.id for i in self.items]
        if len(set(items)) != len(items):
            raise ValueError("survey item listed twice")
        for item in self.items:
            if item.dimension not in dimensions:
                raise ValueError(f"item '{item.id}' is in no declared dimension ('{item.dimension}')")
        for dimension in dimensions:
            count = sum(i.dimension == dimension for i in self.items)
            if count < 2:
                raise ValueError(f"dimension '{dimension}' has {count} item(s): reliability (alpha) needs at least 2")
        if self.comparison is not None and self.comparison.attribute not in [a.id for a in self.attributes]:
            raise ValueError(f"comparison attribute '{self.comparison.attribute}' is not a declared attribute")
        if self.interviews is not None:
            for theme in self.interviews.themes:
                if theme.dimension not in dimensions:
                    raise ValueError(f"interview theme '{theme.code}' points to unknown dimension '{theme.dimension}'")
        return self

    def item_scale(self, item: SurveyItem) -> Scale:
        return item.scale or self.scale

    @property
    def disagreement_limit(self) -> float:
        """Answers at or below this value count as disagreement."""
        if self.disagree_at_most is not None:
            return self.disagree_at_most
        return (self.scale.min + self.scale.max) / 2 - 0.5


class Tier(_Segment):
    """A customer tier by an asset measure: the half-open interval ``[lower, upper)``."""

    lower: float = Field(ge=0, description="Inclusive lower bound (the tier's floor), in the tiers' unit.")
    upper: float | None = Field(default=None, description="Exclusive upper bound; none for the top tier (infinity).")


class Tiers(_Strict):
    """Tiers by financial assets (AUM): they must cover [0, infinity) with no gap and no overlap."""

    basis: str = Field(description="Column the tiers are cut on: an indicator id, or 'aum_start' with a panel.")
    unit: str = Field(default="元", description="Unit of the bounds. With an amount unit (元, 万元, ...) the bounds "
                      "are converted to the unit of the basis (the indicator's, or the panel's); any other unit must "
                      "equal the basis' unit.")
    levels: list[Tier] = Field(min_length=2, description="Tiers from the lowest floor up.")
    focus: str = Field(description="The key tier (e.g. Jinkuihua): its customers at highest churn risk are listed.")
    source: str = Field(default="", description="Where the bounds and strategies come from.")

    @model_validator(mode="after")
    def _cover_half_line(self):
        levels = self.levels
        if levels[0].lower != 0:
            raise ValueError(f"tiers must start at 0: the lowest tier '{levels[0].id}' starts at {levels[0].lower}")
        for below, above in zip(levels, levels[1:]):
            if below.upper is None:
                raise ValueError(f"only the top tier is open-ended: tier '{below.id}' needs an upper bound")
            if below.upper != above.lower:
                kind = "gap" if below.upper < above.lower else "overlap"
                raise ValueError(f"{kind} between tier '{below.id}' (upper {below.upper:g}) and tier "
                                 f"'{above.id}' (lower {above.lower:g}): each upper bound must equal the next floor")
        for tier in levels:
            if tier.upper is not None and tier.upper <= tier.lower:
                raise ValueError(f"tier '{tier.id}' has upper bound {tier.upper:g} not above its floor {tier.lower:g}")
        if levels[-1].upper is not None:
            raise ValueError(f"the top tier '{levels[-1].id}' must have no upper bound (it runs to infinity)")
        if self.focus not in [t.id for t in levels]:
            raise ValueError(f"focus tier '{self.focus}' is not one of the tiers")
        return self

    def scale_to(self, unit: str) -> float:
        """Factor turning the bounds (in :attr:`unit`) into ``unit``, the unit of the values the tiers cut.

        Raises
        ------
        ValueError
            When the units differ and are not both amount units of :data:`UNITS`.
        """
        if unit == self.unit:
            return 1.0
        if self.unit in UNITS and unit in UNITS:
            return UNITS[self.unit] / UNITS[unit]
        raise ValueError(f"the tiers' unit '{self.unit}' cannot be reconciled with '{unit}', the unit of their "
                         f"basis '{self.basis}': give the bounds in '{unit}' (tiers.unit: {unit})")


class Bootstrap(_Strict):
    """Percentile bootstrap of concentration statistics (customers resampled with replacement)."""

    replicates: int = Field(default=1000, ge=50)
    level: float = Field(default=0.95, gt=0, lt=1)
    seed: int = 20240101
    sample_size: int | None = Field(
        default=None, ge=100, description="Bootstrap a seeded random sample of this many customers (large bases)."
    )


class Concentration(_Strict):
    """Concentration of assets and profit: Lorenz curve, Gini coefficient, top-x% shares."""

    measures: list[str] = Field(min_length=1, description="Columns of the customer table (non-negative amounts).")
    top_percent: list[float] = Field(default=[20.0], description="x in 'the top x% of customers hold y%'.")
    bootstrap: Bootstrap = Bootstrap()

    @field_validator("top_percent")
    @classmethod
    def _percent(cls, value):
        if any(not 0 < x < 100 for x in value):
            raise ValueError("top_percent values must lie strictly between 0 and 100")
        return value


class Panel(_Strict):
    """A monthly customer panel (long format: one row per customer and month) and the loss rule."""

    path: Path = Field(description="CSV (optionally .csv.gz), relative to the params file.")
    id_column: str
    month_column: str = Field(description="Month as YYYY-MM (or any date; its month is used).")
    aum_column: str = Field(description="Financial assets (AUM) at month end.")
    profit_column: str | None = Field(default=None, description="Profit the customer brought in the month.")
    unit: str = Field(default="元", description="Amount unit of the AUM and profit columns (元, 万元, ...): plain "
                      "numbers are in it, cells carrying another amount unit are converted to it.")
    encoding: Literal["utf-8", "gb18030"] = "utf-8"
    months_below: int = Field(
        default=3, ge=1, description="k: a customer is lost when its AUM stays below its tier floor k months."
    )
    trend_months: int = Field(default=3, ge=1, description="m: AUM trend = mean of the last m months / mean of the m before - 1.")
    tenure_indicator: str | None = Field(
        default=None, description="Indicator holding months with the bank at the customer's first panel month."
    )
    migration: tuple[str, str] | None = Field(
        default=None, description="Two months (YYYY-MM) for the tier migration matrix; default first and last."
    )


class ChurnFlag(_Strict):
    """A customer snapshot with an attrition flag instead of a panel."""

    column: str = Field(description="Column of the customer file that says whether the customer left.")
    lost_values: list[str] = Field(min_length=1, description="Values of that column that mean 'lost'.")
    duration: str = Field(description="Indicator: months with the bank at loss or at the data date (retention curves).")
    lost_assets: str = Field(description="Indicator whose value counts as assets lost when the customer leaves.")


class LifecycleStage(_Segment):
    """A life-cycle stage: the first stage, in order, whose conditions all hold (min inclusive, max exclusive)."""

    lost: bool | None = Field(default=None, description="true: only lost customers; false: only active ones.")
    min_tenure: float | None = None
    max_tenure: float | None = None
    min_trend: float | None = None
    max_trend: float | None = None


class Lifecycle(_Strict):
    """Life-cycle stages by rules over tenure and AUM trend."""

    tenure: str = Field(description="Column with months with the bank ('tenure' with a panel, or an indicator).")
    trend: str = Field(description="Column with the asset trend ('aum_trend' with a panel, or an indicator).")
    stages: list[LifecycleStage] = Field(min_length=2)
    source: str = ""

    @model_validator(mode="after")
    def _last_catches_all(self):
        last = self.stages[-1]
        if any(v is not None for v in (last.lost, last.min_tenure, last.max_tenure, last.min_trend, last.max_trend)):
            raise ValueError(f"the last life-cycle stage ('{last.id}') must have no conditions, so every customer "
                             "gets a stage")
        return self


class ChurnModel(_Strict):
    """Churn-driver models: logistic regression (statsmodels) and gradient boosting (scikit-learn)."""

    features: list[str] = Field(min_length=1, description="Indicator ids used as predictors.")
    folds: int = Field(default=5, ge=2)
    seed: int = 20240101
    sample_size: int | None = Field(default=None, ge=100, description="Fit on a seeded sample of this many customers.")
    learning_rate: float = Field(default=0.1, gt=0)
    max_iter: int = Field(default=200, ge=1)
    max_leaf_nodes: int = Field(default=31, ge=2)
    calibration_bins: int = Field(default=10, ge=2)
    permutation_repeats: int = Field(default=5, ge=1)
    top_risk: int = Field(default=20, ge=1, description="Rows of the top-risk table of the focus tier.")
    risk_model: Literal["gradient_boosting", "logistic"] = "gradient_boosting"


class CustomerBase(_Strict):
    """A personal-customer base: tiers, concentration, lost customers and assets, life cycle, churn drivers."""

    tiers: Tiers
    concentration: Concentration
    panel: Panel | None = None
    churn: ChurnFlag | None = None
    lifecycle: Lifecycle
    churn_model: ChurnModel
    retention_months: list[int] = Field(default=[12, 24], description="Months at which retention is tabulated.")
    pseudonym_salt: str | None = Field(
        default=None, description="Key of the customer-id pseudonyms; the environment variable "
                                  "CRMLIB_PSEUDONYM_SALT overrides it."
    )

    @model_validator(mode="after")
    def _one_source_of_losses(self):
        if (self.panel is None) == (self.churn is None):
            raise ValueError("give exactly one of 'panel' (monthly AUM) and 'churn' (an attrition flag)")
        if (self.panel is not None) != (self.tiers.basis == "aum_start"):
            raise ValueError("with a panel the tiers are cut on 'aum_start' (the loss rule uses each customer's "
                             "start tier); without one, on an indicator")
        return self

    def derived_columns(self) -> list[str]:
        """Columns the customer-base table adds to the indicators (see :mod:`crmlib.customer_base`)."""
        common = ["tier", "lost", "assets_lost", "duration"]
        if self.panel is None:
            return common
        profit = ["profit"] if self.panel.profit_column is not None else []
        return common + ["aum_start", "aum_end", "tenure", "aum_trend"] + profit


class SyntheticIndicator(_Strict):
    """How the generator draws one indicator from the latent factors."""

    loadings: list[float] = Field(description="Loading on each latent factor, in the order of latent_factors.")
    distribution: Literal["lognormal", "normal"] = Field(
        description="lognormal: exp(location + scale * x), skewed positive amounts; normal: location + scale * x."
    )
    location: float
    scale: float = Field(gt=0)
    minimum: float | None = None
    maximum: float | None = None
    decimals: int = Field(default=2, ge=0)
    thousands_separator: bool = False

    @field_validator("loadings")
    @classmethod
    def _communality_below_one(cls, value):
        if sum(v * v for v in value) >= 1:
            raise ValueError("the squared loadings of an indicator must sum to less than 1")
        return value


class SyntheticSpec(_Strict):
    """A factor model from which the case's synthetic customer file is generated."""

    seed: int
    n_customers: int = Field(ge=2)
    latent_factors: list[str] = Field(min_length=1)
    id_prefix: str = "C"
    missing_share: float = Field(default=0.0, ge=0, lt=1)
    outlier_share: float = Field(default=0.0, ge=0, lt=1)
    outlier_factor: float = Field(default=20.0, gt=1)
    straight_liners: int = Field(default=0, ge=0, description="Respondents who give one answer to every item.")
    attributes: dict[str, dict[str, float]] = Field(
        default={}, description="Per respondent attribute: its values and their shares (drawn independently)."
    )
    indicators: dict[str, SyntheticIndicator] = Field(description="One entry per indicator or survey item.")


class SyntheticFeature(_Strict):
    """How the panel generator draws one customer feature (independently of the others)."""

    distribution: Literal["normal", "lognormal", "poisson", "bernoulli"] = Field(
        description="normal: location + scale z; lognormal: exp(location + scale z); poisson: mean location; "
                    "bernoulli: probability location."
    )
    location: float
    scale: float = 1.0
    minimum: float | None = None
    maximum: float | None = None
    decimals: int = Field(default=0, ge=0)


class SyntheticPanelSpec(_Strict):
    """A customer file and monthly AUM panel with churn driven by declared features (see :mod:`crmlib.synthetic`)."""

    seed: int
    n_customers: int = Field(ge=10)
    months: int = Field(default=24, ge=6)
    first_month: str = Field(default="2023-01", description="YYYY-MM of the first panel month.")
    id_prefix: str = "C"
    aum_median: float = Field(gt=0, description="Median AUM in the first month (log-normal level).")
    aum_sigma: float = Field(gt=0, description="Standard deviation of log AUM across customers (the heavy tail).")
    aum_volatility: float = Field(default=0.03, ge=0, description="Monthly log-AUM noise (AR(1), rho 0.7).")
    new_customer_share: float = Field(default=0.1, ge=0, lt=1, description="Customers who open during the window.")
    profit_margin: float = Field(gt=0, description="Annual profit as a share of AUM (monthly profit = AUM x margin / 12).")
    monthly_hazard: float = Field(gt=0, lt=1, description="Monthly churn hazard of a customer with average features.")
    drivers: dict[str, float] = Field(
        description="Log hazard ratio per standard deviation of each feature (0: not a driver)."
    )
    closure_share: float = Field(default=0.5, ge=0, le=1, description="Lost customers who close (the rest draw down).")
    drawdown_months: int = Field(default=3, ge=1, description="Months of falling AUM before a loss.")
    features: dict[str, SyntheticFeature] = Field(description="One entry per indicator of the customer file.")


class ReportSettings(_Strict):
    """The case report (``reports/<case>/report.html``)."""

    lang: Literal["en", "zh"] = Field(default="en", description="Language of the report and its figures.")


class CaseParams(_Strict):
    """Everything that defines a case. ``source_file`` is set by :func:`load_params`."""

    case: str = Field(description="Case name: the directory name of its outputs.")
    title_en: str
    title_zh: str
    data: DataSource
    indicators: list[Indicator] = Field(default=[], description="The index system (not used by a survey case).")
    survey: Survey | None = Field(default=None, description="A questionnaire case: items, dimensions, analyses.")
    stages: list[str] = Field(
        default=list(STAGES), description="Stages this case runs (a case may skip stages that do not apply to it)."
    )
    cleaning: CleaningRules = CleaningRules()
    factor_analysis: FactorAnalysisSettings | None = Field(
        default=None, description="Factor analysis of all indicators (stage 03) and the composite score."
    )
    grading: Grading | None = Field(default=None, description="Grades from the composite score (needs factor_analysis).")
    value_model: ValueModel | None = None
    value_matrix: ValueMatrix | None = Field(default=None, description="Classes from two value dimensions.")
    customer_base: CustomerBase | None = Field(
        default=None, description="Tiers, concentration, lost customers and assets, life cycle and churn drivers."
    )
    report: ReportSettings = ReportSettings()
    synthetic: SyntheticSpec | None = None
    synthetic_panel: SyntheticPanelSpec | None = None
    source_file: Path | None = Field(default=None, exclude=True)

    @field_validator("case")
    @classmethod
    def _case_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"case name '{value}' must be letters, digits and _")
        return value

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r} (stages: {', '.join(STAGES)})")
        return [s for s in STAGES if s in value]

    @model_validator(mode="after")
    def _consistent(self):
        ids = [i.id for i in self.indicators]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"indicator listed twice: {', '.join(duplicated)}")
        columns = [i.source_column for i in self.indicators]
        if len(set(columns)) != len(columns):
            raise ValueError("two indicators read the same data column")
        if self.synthetic is not None:
            measured = ids if self.survey is None else [i.id for i in self.survey.items]
            missing = sorted(set(measured) - set(self.synthetic.indicators))
            extra = sorted(set(self.synthetic.indicators) - set(measured))
            if missing or extra:
                raise ValueError(
                    f"synthetic.indicators must match the indicators or survey items (missing: {missing}, "
                    f"unknown: {extra})"
                )
            k = len(self.synthetic.latent_factors)
            for name, spec in self.synthetic.indicators.items():
                if len(spec.loadings) != k:
                    raise ValueError(f"synthetic indicator '{name}' needs {k} loadings, one per latent factor")
        if self.factor_analysis is not None:
            count = self.factor_analysis.n_factors
            if count.rule == "fixed" and count.n > len(ids):
                raise ValueError(f"cannot retain {count.n} factors from {len(ids)} indicators")
        if self.grading is not None and self.factor_analysis is None:
            raise ValueError("grading needs a factor_analysis section (grades come from the composite score)")
        if self.survey is None and len(ids) < 2:
            raise ValueError("a case needs at least two indicators, or a survey section")
        if self.survey is None and self.grading is None and self.value_matrix is None and self.customer_base is None:
            raise ValueError("give grading, value_matrix or customer_base: the segmentation stage needs one")
        if self.value_matrix is not None and self.value_model is None:
            raise ValueError("value_matrix needs a value_model section")
        if self.value_model is not None:
            self._check_value_model(ids)
        if self.customer_base is not None:
            self._check_customer_base(ids)
        if self.synthetic_panel is not None:
            unknown = sorted(set(self.synthetic_panel.features) ^ set(ids))
            if unknown or not set(self.synthetic_panel.drivers) <= set(ids):
                raise ValueError("synthetic_panel.features must list each indicator once, and drivers must be "
                                 f"indicators (mismatch: {unknown or sorted(set(self.synthetic_panel.drivers) - set(ids))})")
        return self

    def _check_customer_base(self, ids: list[str]) -> None:
        base = self.customer_base
        if base.panel is not None and self.cleaning.missing == "drop":
            raise ValueError("a panel case keeps every customer of the panel: set cleaning.missing to median or mean")
        columns = ids + base.derived_columns()
        references = {"customer_base.tiers.basis": [base.tiers.basis],
                      "customer_base.concentration.measures": base.concentration.measures,
                      "customer_base.lifecycle.tenure": [base.lifecycle.tenure],
                      "customer_base.lifecycle.trend": [base.lifecycle.trend]}
        indicator_references = {"customer_base.churn_model.features": base.churn_model.features}
        if base.churn is not None:
            indicator_references |= {"customer_base.churn.duration": [base.churn.duration],
                                     "customer_base.churn.lost_assets": [base.churn.lost_assets]}
        if base.panel is not None and base.panel.tenure_indicator is not None:
            indicator_references["customer_base.panel.tenure_indicator"] = [base.panel.tenure_indicator]
        for key, names in references.items():
            for name in names:
                if name not in columns:
                    raise ValueError(f"{key}: '{name}' is neither an indicator nor a customer-base column "
                                     f"({', '.join(base.derived_columns())})")
        for key, names in indicator_references.items():
            for name in names:
                if name not in ids:
                    raise ValueError(f"{key}: '{name}' is not an indicator")
        if base.panel is not None and base.panel.unit not in UNITS:
            raise ValueError(f"customer_base.panel.unit: '{base.panel.unit}' is not an amount unit "
                             f"({', '.join(UNITS)})")
        base.tiers.scale_to(self.tier_basis_unit())

    def tier_basis_unit(self) -> str:
        """Unit of the values the customer-base tiers are cut on: the panel's, or the basis indicator's."""
        base = self.customer_base
        if base.panel is not None:
            return base.panel.unit
        units = [i.unit for i in self.indicators if i.id == base.tiers.basis]
        if not units:
            raise ValueError(f"customer_base.tiers.basis: '{base.tiers.basis}' is not an indicator (without a "
                             "panel the tiers are cut on an indicator)")
        return units[0]

    def _check_value_model(self, ids: list[str]) -> None:
        grouped = [i for d in self.value_model.dimensions for i in d.indicators]
        unknown = sorted(set(grouped) - set(ids))
        twice = sorted({i for i in grouped if grouped.count(i) > 1})
        ungrouped = [i for i in ids if i not in grouped]
        if unknown or twice or ungrouped:
            raise ValueError(f"each indicator must be in exactly one value dimension (unknown: {unknown}, "
                             f"listed twice: {twice}, in no dimension: {ungrouped})")
        for position, dimension in enumerate(self.value_model.dimensions):
            if dimension.weights.method == "ahp":
                key = f"value_model.dimensions.{position}.weights.matrix"
                result = ahp_weights(dimension.weights.matrix, dimension.indicators, dimension.weights.random_index,
                                     where={"key": key})
                check_consistency(result, where={"key": key})
        names = [d.id for d in self.value_model.dimensions]
        matrix = self.value_matrix
        if matrix is not None:
            for axis in (matrix.x, matrix.y):
                if axis not in names:
                    raise ValueError(f"value_matrix axis '{axis}' is not a value dimension ({', '.join(names)})")
            if matrix.value_share_basis != "minmax" and matrix.value_share_basis not in ids:
                raise ValueError(f"value_share_basis must be 'minmax' or an indicator id, "
                                 f"not '{matrix.value_share_basis}'")
            stages = matrix.relationship_stages
            if stages is not None and stages.indicator not in ids:
                raise ValueError(f"relationship stage indicator '{stages.indicator}' is not an indicator")

    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    @property
    def data_path(self) -> Path:
        """The data file, resolved against the params file's directory."""
        base = self.source_file.parent if self.source_file is not None else Path.cwd()
        return (base / self.data.path).resolve()


def _key_of(location: tuple) -> str:
    return ".".join(str(part) for part in location)


def load_params(path) -> CaseParams:
    """Read and validate a case's YAML file.

    Raises
    ------
    InputError
        When the file does not exist, is not valid YAML, or breaks the schema
        (unknown key, wrong type, inconsistent values); the message names the
        file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("params file does not exist", file=path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                         row=None if mark is None else mark.line + 1) from None
    if not isinstance(raw, dict):
        raise InputError("a params file must be a mapping of keys to values", file=path)
    try:
        params = CaseParams.model_validate(raw)
    except InputError as exc:  # raised by a check that knows its key (an AHP matrix)
        raise InputError(exc.message, file=path, key=exc.key) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        return_key = _key_of(first["loc"]) or None
        raise InputError(message, file=path, key=return_key) from None
    return params.model_copy(update={"source_file": path.resolve()})


def find_params(case: str, params_dir="params") -> Path:
    """The params file of a case named in ``params_dir`` (``params/<case>.yaml``)."""
    path = Path(params_dir) / f"{case}.yaml"
    if not path.is_file():
        known = ", ".join(list_cases(params_dir)) or "none"
        raise InputError(f"no case named '{case}' (known cases: {known})", file=path)
    return path


def list_cases(params_dir="params") -> list[str]:
    """Names of the cases in ``params_dir``, sorted."""
    return sorted(p.stem for p in Path(params_dir).glob("*.yaml"))
