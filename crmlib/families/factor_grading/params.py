"""Params of the factor-grading family: principal-component factor analysis, a composite score and grades."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ...schema import FactorAnalysisSettings, RobustnessSettings, Segment, Strict


class Grade(Segment):
    """One grade of the grading rule, with its problem and strategies."""

    lower: float | None = Field(
        default=None,
        description="Lower bound of the grade: a quantile of the composite score (method quantile) or a score "
        "(method cutoff). The lowest grade has none.",
    )
    problem_en: str = ""
    problem_zh: str = ""


class Grading(Strict):
    """Grades from best to worst; a customer gets the first grade whose lower bound it reaches."""

    method: Literal["quantile", "cutoff"] = "quantile"
    source: str = Field(default="", description="Where the grades' problems and strategies come from.")
    source_zh: str = Field(default="", description="The same in Chinese (the English one stands in when empty).")
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


class Robustness(RobustnessSettings):
    """How much the grades depend on the choices: the grades under each alternative convention, one at a time, and
    their stability over bootstrap samples of the customers."""

    conventions: list[Literal["missing", "winsorize", "extraction", "rotation", "n_factors", "composite_weights"]] = \
        Field(default=["missing", "winsorize", "extraction", "rotation", "n_factors", "composite_weights"],
              description="The conventions to vary, one at a time from the case's own settings (missing: only when "
              "the data have missing values); empty: none.")


class FactorName(Strict):
    """A name for a retained factor, replacing the one read off its loadings."""

    name_en: str
    name_zh: str = Field(default="", description="Chinese name (the English one stands in when empty).")


class FactorGrading(Strict):
    """The factor-grading family (params key ``factor_grading``): a principal-component factor analysis of all
    the case's indicators, the composite score, and, when ``grading`` is given, grades from that score."""

    factor_analysis: FactorAnalysisSettings = FactorAnalysisSettings()
    grading: Grading | None = Field(default=None, description="Grades from the composite score; without it the "
                                    "family stops at the factor analysis (stage 03).")
    robustness: Robustness | None = Field(default=Robustness(), description="How much the grades depend on the "
                                          "choices; null leaves it out. Needs grading and a customer file.")
    factor_names: dict[str, FactorName] = Field(
        default={}, description="Names of retained factors by id (F1, F2, ...), e.g. {F1: {name_en: Business "
        "contribution, name_zh: 业务贡献因子}}; a factor not named here is named after its top-loading indicators.")

    @field_validator("factor_names")
    @classmethod
    def _factor_ids(cls, value):
        wrong = [key for key in value if not re.fullmatch(r"F[1-9]\d*", key)]
        if wrong:
            raise ValueError(f"factor_names keys are factor ids F1, F2, ... (not {', '.join(wrong)})")
        return value

    def check(self, case) -> None:
        """Cross-checks against the rest of the case (``case``: the :class:`crmlib.params.CaseParams` being built)."""
        count = self.factor_analysis.n_factors
        self.factor_analysis.check_missing(case.cleaning.missing, "factor_grading.factor_analysis")
        if case.data.matrix is not None and (self.grading is not None or self.factor_analysis.bootstrap.replicates):
            raise ValueError("a correlation matrix (data.matrix) has no customers to score, grade or resample: "
                             "remove factor_grading.grading and set factor_analysis.bootstrap.replicates to 0")
        if count.rule == "fixed" and count.n > len(case.indicators):
            raise ValueError(f"factor_grading.factor_analysis.n_factors: cannot retain {count.n} factors from "
                             f"{len(case.indicators)} indicators")

    def sources(self, lang: str = "en") -> list[str]:
        """Where the grades' problems and strategies come from, as the params state (in ``lang`` when given)."""
        if self.grading is None:
            return []
        return [(self.grading.source_zh if lang == "zh" else "") or self.grading.source]

    def named(self) -> list:
        """The segments this section names (for labels): the grades."""
        return list(self.grading.grades) if self.grading is not None else []
