"""Params of the survey family: a questionnaire, its own respondent file, and the analyses to run."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ...schema import DataSource, FactorCount, Strict, SyntheticSpec


class Scale(Strict):
    """Answer scale of questionnaire items, e.g. 1-5 Likert or 0-10."""

    min: float
    max: float
    points: bool = Field(default=True, description="Answers are the scale's integer points (Likert): the item "
                         "descriptives give the share at each point. False for scores on a continuous range.")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min < self.max:
            raise ValueError("scale min must be below max")
        return self


class SurveyItem(Strict):
    """One questionnaire item."""

    id: str
    wording_en: str
    wording_zh: str = Field(default="", description="Chinese wording (the English one stands in when empty).")
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


class SurveyDimension(Strict):
    """A dimension of the questionnaire and the CRM problem it measures."""

    id: str
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")
    problem_en: str = ""
    problem_zh: str = ""
    cause_en: str = Field(default="", description="Cause category (e.g. concept, technology, coordination, incentive).")
    cause_zh: str = ""
    countermeasures_en: list[str] = []
    countermeasures_zh: list[str] = []


class Attribute(Strict):
    """A respondent attribute (role, branch, customer tier, gender, ...), read as text."""

    id: str
    column: str
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")


class Comparison(Strict):
    """Comparison of dimension scores between the groups of one respondent attribute."""

    attribute: str
    method: Literal["parametric", "rank"] = Field(
        default="parametric",
        description="parametric: Welch t-test (2 groups) or one-way ANOVA; rank: Mann-Whitney U or Kruskal-Wallis.",
    )


class AlphaBootstrap(Strict):
    """The bootstrap interval of each dimension's alpha (at the survey's ``confidence``)."""

    replicates: int = Field(default=1000, ge=0, description="Bootstrap samples of the respondents; 0: no interval.")
    seed: int = Field(default=20261127, description="Seed of NumPy's PCG64 generator that draws them.")


class EFASettings(Strict):
    """Exploratory factor analysis of the items (validity)."""

    extraction: Literal["principal", "minres", "pa", "ml"] = Field(
        default="minres",
        description="principal components, minimum residual (psych's default), principal axes or maximum "
        "likelihood (crmlib.factors).",
    )
    rotation: Literal["varimax", "quartimax", "oblimin", "promax", "none"] = "oblimin"
    n_factors: FactorCount = FactorCount()
    min_loading: float = Field(default=0.4, gt=0, lt=1, description="Loadings below this are blanked in the display.")


class InterviewTheme(Strict):
    """A theme code of the coded interviews and the dimension (problem) it speaks to."""

    code: str
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")
    dimension: str


class Interviews(Strict):
    """A coded-interview file: one row per (respondent, theme code) mention."""

    path: Path
    respondent_column: str
    theme_column: str
    themes: list[InterviewTheme] = Field(min_length=1)


class Survey(Strict):
    """The survey family (params key ``survey``): a questionnaire with its own respondent file, items, dimensions
    (problems), respondent attributes and the analyses to run."""

    data: DataSource = Field(description="The response file: one row per respondent, one column per item.")
    missing: Literal["drop", "median", "mean", "pairwise"] = Field(
        default="drop", description="Missing answers: drop the respondent (listwise), impute the item's median or "
        "mean, or keep them (pairwise, psych's default: each correlation and covariance from the respondents who "
        "answered both items; a dimension score is the mean of the answered items)."
    )
    synthetic: SyntheticSpec | None = Field(default=None, description="Factor model of the synthetic responses.")
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
    alpha_bootstrap: AlphaBootstrap = AlphaBootstrap()
    efa: EFASettings = EFASettings()
    level: Literal["interval", "ordinal"] = Field(
        default="interval", description="How the analyses of all the items read the answers: as interval data "
        "(Pearson correlations) or as ordinal categories of latent normal variables (polychoric correlations, psych's "
        "polychoric) for KMO, Bartlett's test, the eigenvalues, the exploratory factor analysis, omega hierarchical "
        "and HTMT, with ordinal alpha beside alpha. Ordinal needs one scale of at most 8 integer points for every "
        "item (psych's max.cat).")
    cfa: bool = Field(default=True, description="Confirmatory factor analysis of the dimensions as designed (ML, "
                      "lavaan's conventions), construct validity read from it and, with a comparison attribute, "
                      "configural and metric invariance across its groups; false leaves them out.")
    interviews: Interviews | None = None

    @model_validator(mode="after")
    def _consistent(self):
        dimensions = [d.id for d in self.dimensions]
        if "overall" in dimensions:
            raise ValueError("dimension id 'overall' names all the items together in the reliability table: give "
                             "the dimension another id")
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
        if self.level == "ordinal":
            points = self.scale.max - self.scale.min + 1
            if not (self.scale.points and float(self.scale.min).is_integer() and float(self.scale.max).is_integer()
                    and points <= 8):
                raise ValueError("level 'ordinal' needs a scale of at most 8 integer points (psych's polychoric "
                                 f"max.cat), not {self.scale.min:g}-{self.scale.max:g}: set level: interval")
            if any(item.scale is not None and item.scale != self.scale for item in self.items):
                raise ValueError("level 'ordinal' needs every item on the survey's scale: give no item a scale of "
                                 "its own, or set level: interval")
        if self.synthetic is not None:
            self.synthetic.check(items, "survey.synthetic")
        return self

    @property
    def points(self) -> list[int]:
        """The scale's integer points, ascending (an ordinal questionnaire's categories)."""
        return list(range(int(self.scale.min), int(self.scale.max) + 1))

    def check(self, case) -> None:
        """Nothing to cross-check: the questionnaire has its own respondents."""

    def sources(self, lang: str = "en") -> list[str]:
        """The problems and countermeasures are written in the dimensions themselves: no separate source."""
        return []

    def named(self) -> list:
        """The ids this section names (for labels): the dimensions and the items (labelled by their wording)."""
        return list(self.dimensions) + list(self.items)

    def confirmatory_blocks(self) -> dict[str, list[str]] | None:
        """The dimensions as designed, each with its items, when the params ask for the confirmatory factor
        analysis and its model has at least one degree of freedom; None otherwise."""
        from ...confirmatory import degrees_of_freedom  # here: confirmatory needs factors, which reads the params

        blocks = {d.id: [i.id for i in self.items if i.dimension == d.id] for d in self.dimensions}
        return blocks if self.cfa and degrees_of_freedom(blocks) >= 1 else None

    def item_scale(self, item: SurveyItem) -> Scale:
        return item.scale or self.scale

    @property
    def disagreement_limit(self) -> float:
        """Answers at or below this value count as disagreement."""
        if self.disagree_at_most is not None:
            return self.disagree_at_most
        return (self.scale.min + self.scale.max) / 2 - 0.5
