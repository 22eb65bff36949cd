"""Building blocks of the case parameters that every family may use.

The case's own top-level sections live here (the customer file ``data``, its
``indicators`` and ``cleaning`` rules, the ``report`` settings and the synthetic
data generators), together with the pieces several families share: the strict
base model, segments with strategies, the factor count rule and the settings of
principal-component factor analysis. Each family's section is declared in its
own folder (``crmlib/families/<family>/params.py``); :mod:`crmlib.params` puts
them together. Every default lives in a field declaration, so there is one place
to read it. Unknown keys are errors, so a misspelt option is never silently ignored.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["UNITS", "STAGES", "IDENTIFIER", "Strict", "Segment", "check_arguments", "Indicator", "Transactions",
           "PublishedMatrix",
           "DataSource", "CleaningRules", "FactorCount", "FactorAnalysisSettings", "SyntheticIndicator",
           "SyntheticSpec", "SyntheticFeature", "SyntheticPanelSpec", "ReportSettings"]

#: A cell such as ``"1,234.5万元"`` is converted to the indicator's declared unit.
UNITS: dict[str, float] = {"元": 1.0, "千元": 1e3, "万元": 1e4, "百万元": 1e6, "亿元": 1e8}

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: The stage notebooks, in order; a stage is named by its number or full name.
STAGES = ("01_clean", "02_indicators", "03_factor_analysis", "04_segmentation", "05_strategy")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_arguments(kind: str, chosen: str, arguments: dict[str, tuple[str, object]]) -> None:
    """Each argument ``name`` (mapped from the option it belongs to) is given with, and only with, its option."""
    for option, (name, value) in arguments.items():
        if (chosen == option) != (value is not None):
            raise ValueError(f"`{name}` is given with, and only with, {kind} '{option}'")


class Indicator(Strict):
    """One indicator of the index system."""

    id: str = Field(description="Identifier used in code and output tables (ASCII).")
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")
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
    valid_range: tuple[float | None, float | None] | None = Field(
        default=None, description="Plausible [low, high] in the indicator's unit (null for no bound), e.g. [0, null] "
        "for a balance: a value outside it is an error naming the cell, never a value used."
    )

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"indicator id '{value}' must be letters, digits and _ (not starting with a digit)")
        if value == "customer_id":
            raise ValueError("'customer_id' names the key column of every customer table: give the indicator "
                             "another id (its column header can stay customer_id: set `column`)")
        return value

    @property
    def source_column(self) -> str:
        return self.column if self.column is not None else self.id


class PublishedMatrix(Strict):
    """The data file is a correlation or covariance matrix, as a study prints it, and the number of observations it
    was computed from (:func:`crmlib.io.read_matrix`): its first column and its header row name the indicators (by
    their ``column``); one triangle is enough. The factor analysis runs on it; there are no customers, so no scores
    and no grades."""

    of: Literal["correlation", "covariance"] = Field(
        default="correlation", description="What the matrix holds; a covariance matrix is turned into correlations.")
    n_obs: int = Field(ge=3, description="Observations the matrix was computed from (Bartlett's test, parallel "
                       "analysis and the likelihood fit need it).")


class Transactions(Strict):
    """The customer file given as a transactions table (one row per transaction: customer, date, amount, and a
    type or product where the data have one): the engine builds one row of indicators per customer from it
    (:mod:`crmlib.transactions`), which the case's ``indicators`` name by their ``column``: ``recency_days``,
    ``frequency``, ``monetary``, ``average_amount``, ``tenure_days``, ``amount_trend`` and, with a
    ``type_column``, ``products``."""

    date_column: str = Field(description="Header of the transaction date column.")
    amount_column: str = Field(description="Header of the transaction amount column (a number; a refund may be "
                               "negative).")
    type_column: str | None = Field(default=None, description="Header of the transaction type or product column "
                                    "(gives the indicator `products`, distinct types per customer).")
    date_format: Literal["iso", "yyyymmdd"] = Field(
        default="iso", description="How dates are written: iso (2024-03-31, a time after it is ignored) or "
        "yyyymmdd (20240331).")
    separator: Literal[",", "whitespace"] = Field(
        default=",", description="Column separator of a text file: a comma (CSV), or runs of spaces and tabs.")
    as_of: date | None = Field(
        default=None, description="End of the observation (exclusive): the indicators are as of this date, and "
        "later transactions are left out and counted. Default: the day after the last transaction.")
    trend_months: int = Field(default=6, ge=1, description="Months in each of the two periods `amount_trend` "
                              "compares (the last n months before `as_of` against the n months before them).")


class DataSource(Strict):
    """Where a data file (a customer file, a questionnaire's responses) is and how to read it."""

    path: Path = Field(description="CSV or Excel file, relative to the params file.")
    kind: Literal["synthetic", "public", "private"] = Field(
        description="synthetic: generated from a declared model, labelled so in every report; public: a published "
        "data set (give citation and licence); private: a bank's own records, never labelled public."
    )
    provenance: str = Field(description="Where the data comes from (source, citation, licence or generator).")
    provenance_zh: str = Field(default="", description="The same in Chinese, for a Chinese report (the English "
                               "one stands in when empty).")
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
    decimal: Literal[".", ","] = Field(
        default=".", description="Decimal mark of numbers written as text: '.' (1,234.5) or ',' (1.234,5 or 1 234,5)."
    )
    transactions: Transactions | None = Field(
        default=None, description="The file is a transactions table (CSV, text or Parquet) from which the customer "
        "file is built; needs `id_column`.")
    matrix: PublishedMatrix | None = Field(
        default=None, description="The file is a published correlation or covariance matrix, not customers.")


    @field_validator("kind", mode="before")
    @classmethod
    def _kind_says_who_may_see_it(cls, value):
        if value == "real":
            raise ValueError("kind 'real' does not say who may see the data: write 'public' (a published data set; "
                             "give citation and licence) or 'private' (a bank's own records)")
        return value

    @model_validator(mode="after")
    def _transactions_name_their_customers(self):
        if self.transactions is not None and self.id_column is None:
            raise ValueError("a transactions table needs `id_column`: the column that says whose transaction each "
                             "row is")
        return self

    @model_validator(mode="after")
    def _a_matrix_has_no_customers(self):
        if self.matrix is not None and (self.transactions is not None or self.id_column is not None):
            raise ValueError("a correlation or covariance matrix has no customers: remove `id_column` and "
                             "`transactions`")
        return self

    @model_validator(mode="after")
    def _public_data_is_cited(self):
        if self.kind == "public" and not (self.citation and self.licence):
            raise ValueError("public data needs `citation` and `licence` (the report shows them); for a bank's own "
                             "records write kind: private")
        return self

class CleaningRules(Strict):
    """Rules of the cleaning stage, applied in this order: winsorize, then missing values."""

    missing: Literal["drop", "median", "mean", "pairwise"] = Field(
        default="drop",
        description="drop: listwise deletion (SPSS default); median/mean: impute each indicator "
        "with the statistic of its observed, winsorized values; pairwise: keep every observed value (psych's "
        "default): each correlation from the customers who have both indicators, KMO, Bartlett's test and "
        "parallel analysis with n = all customers, and the factor scores of a customer with a missing indicator "
        "as factor_analysis.impute says (factor-grading family).",
    )
    winsorize: tuple[float, float] | None = Field(
        default=(0.01, 0.99),
        description="Lower and upper quantiles (linear interpolation, R type 7) of the observed values "
        "at which each indicator is clipped; null turns winsorizing off.",
    )
    ddof: Literal[0, 1] = Field(
        default=1, description="Delta degrees of freedom of the standard deviation used in z-scores."
    )
    max_missing_share: float = Field(
        default=0.5, gt=0, le=1,
        description="Largest share of customers an indicator may be missing for; above it the run stops, since "
        "imputing most of an indicator makes it a near-constant and listwise deletion drops most customers.",
    )

    @field_validator("winsorize")
    @classmethod
    def _quantiles_ordered(cls, value):
        if value is not None and not (0.0 <= value[0] < value[1] <= 1.0):
            raise ValueError("winsorize quantiles must satisfy 0 <= lower < upper <= 1")
        return value


class FactorCount(Strict):
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
        check_arguments("rule", self.rule, {"fixed": ("n", self.n)})
        return self


class LoadingBootstrap(Strict):
    """Bootstrap intervals of the rotated loadings (factor-grading family)."""

    replicates: int = Field(default=0, ge=0, description="Bootstrap samples of the customers; 0: no intervals.")
    confidence: float = Field(default=0.95, gt=0, lt=1)
    seed: int = Field(default=20261127, description="Seed of the hash sample and of NumPy's PCG64 draws.")
    max_customers: int = Field(
        default=10_000, ge=10,
        description="Larger bases are bootstrapped on this many customers, the first by a hash of (seed, id): the "
        "same customers on every engine.",
    )


class FactorAnalysisSettings(Strict):
    """Factor-analysis stage settings (principal-component extraction as in SPSS and psych::principal, or principal
    axis factoring as SPSS's PAF and psych::fa(fm = "pa"))."""

    extraction: Literal["principal", "minres", "pa", "ml"] = Field(
        default="principal",
        description="principal: principal components (psych::principal); pa: principal axis factoring from squared "
        "multiple correlations, iterated until no communality changes by more than 1e-12 (psych::fa(fm = \"pa\") "
        "converged as tightly; SPSS's PAF stops at 0.001); minres: minimum residual (psych::fa's default), whose "
        "minimum is that same fixed point (psych stops about 1.5e-5 before it); ml: maximum likelihood (stats::factanal, "
        "psych::fa(fm = \"ml\")), with its chi-square, TLI, RMSEA and BIC.",
    )
    n_factors: FactorCount = FactorCount()
    rotation: Literal["varimax", "quartimax", "promax", "oblimin", "none"] = Field(
        default="varimax",
        description="varimax (stats::varimax, SPSS's default), quartimax (the exact maximum by plane rotations; "
        "psych's quartimax is GPArotation's, without Kaiser normalization), promax or oblimin (oblique, as psych "
        "rotates: pattern, structure and factor correlations), or none; kaiser_normalization applies to varimax and "
        "quartimax.",
    )
    scores: Literal["regression", "bartlett", "anderson_rubin", "ten_berge"] = Field(
        default="regression",
        description="Factor-score coefficients (psych::factor.scores): regression (Thurstone, SPSS's default), "
        "bartlett, anderson_rubin or ten_berge; the composite weighs the scores of this method.",
    )
    impute: Literal["none", "mean", "median"] = Field(
        default="none",
        description="Scores under cleaning.missing: pairwise, as psych::factor.scores(missing = TRUE, impute = ...): "
        "none: a customer with a missing indicator has no score and no grade (counted in score_coverage); mean or "
        "median: the missing z-score is replaced by the indicator's mean or median, every indicator is standardized "
        "again, and each factor score is standardized (psych's factorScoresSapa). Other missing-value policies leave "
        "no value missing, so only none applies to them.",
    )
    kaiser_normalization: bool = Field(default=True, description="Row-normalize loadings before rotating by varimax "
                                       "or quartimax (SPSS; psych for varimax only).")
    composite_weights: Literal["rotated_variance", "eigenvalue", "equal"] = Field(
        default="rotated_variance",
        description="w_j = rotated SS loadings share (default), unrotated eigenvalue share of the retained total, or "
        "equal (1/k).",
    )
    max_condition_number: float = Field(
        default=1e10,
        gt=1,
        description="Largest accepted ratio of the correlation matrix's largest to smallest eigenvalue.",
    )
    bootstrap: LoadingBootstrap = LoadingBootstrap()

    def check_missing(self, missing: str, key: str) -> None:
        """Raise ``ValueError`` when ``impute`` is set for a case whose cleaning leaves no value missing."""
        if self.impute != "none" and missing != "pairwise":
            raise ValueError(f"{key}.impute: {self.impute} scores customers with missing indicators, but "
                             f"cleaning.missing: {missing} leaves none: remove impute, or set cleaning.missing: "
                             "pairwise")

    @model_validator(mode="after")
    def _oblique_scores(self):
        if self.rotation in ("promax", "oblimin") and self.scores not in ("regression", "bartlett"):
            raise ValueError(f"scores: {self.scores} assumes orthogonal factors; with rotation: {self.rotation} use "
                             "regression or bartlett")
        return self


class RobustnessSettings(Strict):
    """How much a segmentation depends on the choices (:mod:`crmlib.robustness`): the segments under each alternative
    convention, one at a time, and their stability over bootstrap samples of the customers. Each family names the
    conventions it can vary (``conventions``)."""

    replicates: int = Field(default=100, ge=0, description="Bootstrap samples of the customers (each refits the "
                            "model and the segment bounds); 0: no stability.")
    seed: int = Field(default=20261127, description="Seed of NumPy's PCG64 draws of the samples and of the hash "
                      "sample of the customers.")
    stable_share: float = Field(default=0.9, gt=0, le=1, description="A customer's segment counts as stable when they "
                                "keep it in at least this share of the samples.")
    max_customers: int = Field(default=50_000, ge=100, description="Above this many customers, the robustness is "
                               "computed on a sample of this many, the customers of the smallest hashes of (seed, "
                               "customer id).")


class Segment(Strict):
    """A named segment (grade, value class, relationship stage) with its strategies, in both languages."""

    id: str
    label_en: str
    label_zh: str = Field(default="", description="Chinese label (the English one stands in when empty).")
    strategies_en: list[str] = []
    strategies_zh: list[str] = []


class SyntheticIndicator(Strict):
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


class SyntheticSpec(Strict):
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

    def check(self, measures: list[str], key: str) -> None:
        """One entry per measure (``measures``: the indicators or survey items it generates; ``key``: where the
        section is), each with one loading per latent factor."""
        missing = sorted(set(measures) - set(self.indicators))
        extra = sorted(set(self.indicators) - set(measures))
        if missing or extra:
            raise ValueError(f"{key}.indicators must match the measures it generates (missing: {missing}, unknown: "
                             f"{extra})")
        k = len(self.latent_factors)
        for name, spec in self.indicators.items():
            if len(spec.loadings) != k:
                raise ValueError(f"synthetic indicator '{name}' needs {k} loadings, one per latent factor")


class SyntheticFeature(Strict):
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


class SyntheticPanelSpec(Strict):
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


class ReportSettings(Strict):
    """The case report (``reports/<case>/report.html``)."""

    lang: Literal["en", "zh"] = Field(default="en", description="Language of the report and its figures.")
