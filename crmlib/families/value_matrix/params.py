"""Params of the value-matrix family: a customer value model and the value matrix."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...schema import FactorAnalysisSettings, RobustnessSettings, Segment, Strict, check_arguments


class WeightSpec(Strict):
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
        check_arguments("method", self.method, {"ahp": ("matrix", self.matrix), "fixed": ("values", self.values)})
        return self


class ValueDimension(Strict):
    """One dimension of the customer value model (e.g. current value, potential value)."""

    id: str
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")
    indicators: list[str] = Field(min_length=1)
    weights: WeightSpec


class ValueModel(Strict):
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


class AxisThreshold(Strict):
    """Where an axis of the value matrix is split into high and low (high: value >= threshold)."""

    rule: Literal["mean", "median", "quantile", "fixed"] = "median"
    q: float | None = Field(default=None, gt=0, lt=1, description="Quantile level for rule 'quantile'.")
    value: float | None = Field(default=None, description="Threshold for rule 'fixed'.")

    @model_validator(mode="after")
    def _arguments_match_rule(self):
        check_arguments("rule", self.rule, {"quantile": ("q", self.q), "fixed": ("value", self.value)})
        return self


class ValueClass(Segment):
    """A class of the value matrix with its strategies."""


class RelationshipStage(Segment):
    """A stage of the customer relationship, by an indicator's value (lower bound inclusive)."""

    lower: float | None = Field(default=None, description="Lower bound on the stage indicator; none for the first.")


class RelationshipStages(Strict):
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


class ValueMatrix(Strict):
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
    source_zh: str = Field(default="", description="The same in Chinese (the English one stands in when empty).")
    relationship_stages: RelationshipStages | None = None

    @property
    def classes(self) -> dict[str, ValueClass]:
        return {"high_high": self.high_high, "high_low": self.high_low, "low_high": self.low_high,
                "low_low": self.low_low}


class ClassRobustness(RobustnessSettings):
    """How much the value classes depend on the choices: the classes under each alternative convention, one at a
    time, and their stability over bootstrap samples of the customers."""

    conventions: list[Literal["missing", "winsorize", "normalization", "weights", "threshold", "extraction",
                              "rotation", "n_factors", "composite_weights"]] = Field(
        default=["missing", "winsorize", "normalization", "weights", "threshold", "extraction", "rotation",
                 "n_factors", "composite_weights"],
        description="The conventions to vary, one at a time from the case's own settings: missing (only when the "
        "data have missing values), winsorize, normalization, weights (each dimension's method: entropy, factor, "
        "equal), threshold (each axis: mean or median); extraction, rotation, n_factors and composite_weights only "
        "when a dimension is weighted by factor analysis. Empty: none.")


class ValueMatrixFamily(Strict):
    """The value-matrix family (params key ``value_matrix``): a customer value model and, when ``matrix`` is
    given, the classes of the value matrix."""

    model: ValueModel
    matrix: ValueMatrix | None = Field(default=None, description="Classes from two value dimensions.")
    factor_analysis: FactorAnalysisSettings = Field(
        default=FactorAnalysisSettings(), description="Settings of the factor analysis behind `factor` weights."
    )
    robustness: ClassRobustness | None = Field(default=ClassRobustness(), description="How much the classes depend "
                                               "on the choices; null leaves it out. Needs the matrix.")

    def check(self, case) -> None:
        """Cross-checks against the case's indicators (no computation: AHP consistency is checked in stage 03)."""
        ids = case.indicator_ids
        grouped = [i for d in self.model.dimensions for i in d.indicators]
        unknown = sorted(set(grouped) - set(ids))
        twice = sorted({i for i in grouped if grouped.count(i) > 1})
        ungrouped = [i for i in ids if i not in grouped]
        if unknown or twice or ungrouped:
            raise ValueError(f"value_matrix.model: each indicator must be in exactly one value dimension (unknown: "
                             f"{unknown}, listed twice: {twice}, in no dimension: {ungrouped})")
        self.factor_analysis.check_missing(case.cleaning.missing, "value_matrix.factor_analysis")
        if case.cleaning.missing == "pairwise":
            other = [d for d in self.model.dimensions if d.weights.method != "factor"]
            if other:
                raise ValueError(f"cleaning.missing: pairwise applies to factor analysis, but value dimension "
                                 f"'{other[0].id}' is weighted by {other[0].weights.method}, which needs complete "
                                 "values: set cleaning.missing to median or mean, or weigh it by factor")
            if self.factor_analysis.impute == "none":
                raise ValueError("cleaning.missing: pairwise in the value matrix needs every customer valued (a "
                                 "customer without a value has no class): set value_matrix.factor_analysis.impute "
                                 "to median or mean")
        names = [d.id for d in self.model.dimensions]
        clash = sorted(set(names) & set(ids))
        if clash:
            raise ValueError(f"value_matrix.model: value dimension id '{clash[0]}' is also an indicator id; give "
                             "the dimension another id")
        matrix = self.matrix
        if matrix is None:
            return
        for axis in (matrix.x, matrix.y):
            if axis not in names:
                raise ValueError(f"value_matrix.matrix: axis '{axis}' is not a value dimension ({', '.join(names)})")
        if matrix.value_share_basis != "minmax" and matrix.value_share_basis not in ids:
            raise ValueError(f"value_matrix.matrix.value_share_basis must be 'minmax' or an indicator id, "
                             f"not '{matrix.value_share_basis}'")
        stages = matrix.relationship_stages
        if stages is not None and stages.indicator not in ids:
            raise ValueError(f"value_matrix.matrix.relationship_stages: '{stages.indicator}' is not an indicator")

    def sources(self, lang: str = "en") -> list[str]:
        """Where the classes' strategies come from, as the params state (in ``lang`` when given)."""
        if self.matrix is None:
            return []
        return [(self.matrix.source_zh if lang == "zh" else "") or self.matrix.source]

    def named(self) -> list:
        """The ids this section names (for labels): value dimensions, classes and relationship stages."""
        named = list(self.model.dimensions)
        if self.matrix is not None:
            named += list(self.matrix.classes.values())
            if self.matrix.relationship_stages is not None:
                named += self.matrix.relationship_stages.stages
        return named
