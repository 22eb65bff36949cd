"""Params of the customer-base family: tiers, concentration, losses, life cycle and churn drivers."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ...schema import UNITS, Segment, Strict


class Tier(Segment):
    """A customer tier by an asset measure: the half-open interval ``[lower, upper)``."""

    lower: float = Field(ge=0, description="Inclusive lower bound (the tier's floor), in the tiers' unit.")
    upper: float | None = Field(default=None, description="Exclusive upper bound; none for the top tier (infinity).")


class Tiers(Strict):
    """Tiers by financial assets (AUM): they must cover [0, infinity) with no gap and no overlap."""

    basis: str = Field(description="Column the tiers are cut on: an indicator id, or 'aum_start' with a panel.")
    unit: str = Field(default="元", description="Unit of the bounds. With an amount unit (元, 万元, ...) the bounds "
                      "are converted to the unit of the basis (the indicator's, or the panel's); any other unit must "
                      "equal the basis' unit.")
    levels: list[Tier] = Field(min_length=2, description="Tiers from the lowest floor up.")
    focus: str = Field(description="The key tier (e.g. Jinkuihua): its customers at highest churn risk are listed.")
    source: str = Field(default="", description="Where the bounds and strategies come from.")
    source_zh: str = Field(default="", description="The same in Chinese (the English one stands in when empty).")

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


class Bootstrap(Strict):
    """Percentile bootstrap of concentration statistics (customers resampled with replacement)."""

    replicates: int = Field(default=1000, ge=50)
    level: float = Field(default=0.95, gt=0, lt=1)
    seed: int = 20240101
    sample_size: int | None = Field(
        default=None, ge=100, description="Bootstrap a seeded random sample of this many customers (large bases)."
    )


class Concentration(Strict):
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


class Panel(Strict):
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


class ChurnFlag(Strict):
    """A customer snapshot with an attrition flag instead of a panel."""

    column: str = Field(description="Column of the customer file that says whether the customer left.")
    lost_values: list[str] = Field(min_length=1, description="Values of that column that mean 'lost'.")
    retained_values: list[str] = Field(min_length=1, description="Values of that column that mean 'still a "
                                       "customer'; any other value (a typo, another case) stops the run.")
    duration: str = Field(description="Indicator: months with the bank at loss or at the data date (retention curves).")
    lost_assets: str = Field(description="Indicator whose value counts as assets lost when the customer leaves.")


class LifecycleStage(Segment):
    """A life-cycle stage: the first stage, in order, whose conditions all hold (min inclusive, max exclusive)."""

    lost: bool | None = Field(default=None, description="true: only lost customers; false: only active ones.")
    min_tenure: float | None = None
    max_tenure: float | None = None
    min_trend: float | None = None
    max_trend: float | None = None


class Lifecycle(Strict):
    """Life-cycle stages by rules over tenure and AUM trend."""

    tenure: str = Field(description="Column with months with the bank ('tenure' with a panel, or an indicator).")
    trend: str = Field(description="Column with the asset trend ('aum_trend' with a panel, or an indicator).")
    stages: list[LifecycleStage] = Field(min_length=2)
    source: str = ""
    source_zh: str = ""

    @model_validator(mode="after")
    def _last_catches_all(self):
        last = self.stages[-1]
        if any(v is not None for v in (last.lost, last.min_tenure, last.max_tenure, last.min_trend, last.max_trend)):
            raise ValueError(f"the last life-cycle stage ('{last.id}') must have no conditions, so every customer "
                             "gets a stage")
        return self


class ChurnModel(Strict):
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


class CustomerBase(Strict):
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

    def check(self, case) -> None:
        """Cross-checks against the case's indicators and cleaning rules."""
        ids = case.indicator_ids
        if case.cleaning.missing == "pairwise":
            raise ValueError("the customer base needs every customer's indicators (tiers, losses, concentration): "
                             "set cleaning.missing to drop, median or mean, not pairwise")
        if self.panel is not None and case.cleaning.missing == "drop":
            raise ValueError("a panel case keeps every customer of the panel: set cleaning.missing to median or mean")
        clash = sorted(set(ids) & set(self.derived_columns() + ["first_month", "loss_month", "loss_reason",
                                                                 "lifecycle"]))
        if clash:
            raise ValueError(f"indicator id '{clash[0]}' is also a column the customer base derives "
                             f"({', '.join(self.derived_columns())}), so customer_base keys naming it would be "
                             "ambiguous: give the indicator another id (its column header stays)")
        columns = ids + self.derived_columns()
        references = {"customer_base.tiers.basis": [self.tiers.basis],
                      "customer_base.concentration.measures": self.concentration.measures,
                      "customer_base.lifecycle.tenure": [self.lifecycle.tenure],
                      "customer_base.lifecycle.trend": [self.lifecycle.trend]}
        indicator_references = {"customer_base.churn_model.features": self.churn_model.features}
        if self.churn is not None:
            indicator_references |= {"customer_base.churn.duration": [self.churn.duration],
                                     "customer_base.churn.lost_assets": [self.churn.lost_assets]}
        if self.panel is not None and self.panel.tenure_indicator is not None:
            indicator_references["customer_base.panel.tenure_indicator"] = [self.panel.tenure_indicator]
        for key, names in references.items():
            for name in names:
                if name not in columns:
                    raise ValueError(f"{key}: '{name}' is neither an indicator nor a customer-base column "
                                     f"({', '.join(self.derived_columns())})")
        for key, names in indicator_references.items():
            for name in names:
                if name not in ids:
                    raise ValueError(f"{key}: '{name}' is not an indicator")
        if self.panel is not None and self.panel.unit not in UNITS:
            raise ValueError(f"customer_base.panel.unit: '{self.panel.unit}' is not an amount unit "
                             f"({', '.join(UNITS)})")
        self.tiers.scale_to(self.tier_basis_unit(case.indicators))

    def tier_basis_unit(self, indicators) -> str:
        """Unit of the values the tiers are cut on: the panel's, or the basis indicator's."""
        if self.panel is not None:
            return self.panel.unit
        units = [i.unit for i in indicators if i.id == self.tiers.basis]
        if not units:
            raise ValueError(f"customer_base.tiers.basis: '{self.tiers.basis}' is not an indicator (without a "
                             "panel the tiers are cut on an indicator)")
        return units[0]

    def sources(self, lang: str = "en") -> list[str]:
        """Where the tier bounds and the strategies come from, as the params state (in ``lang`` when given)."""
        return [(part.source_zh if lang == "zh" else "") or part.source for part in (self.tiers, self.lifecycle)]

    def named(self) -> list:
        """The ids this section names (for labels): tiers and life-cycle stages."""
        return list(self.tiers.levels) + list(self.lifecycle.stages)
