"""Customer base: tier bounds, the loss rule on hand-made panels, panel checks, flows, migration, life cycle."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from crmlib import customer_base, load_params
from crmlib.customer_base import PanelData
from crmlib.errors import InputError
from crmlib.params import Lifecycle, Panel, Tiers

TIERS = Tiers.model_validate({"basis": "aum_start", "focus": "jinkuihua", "levels": [
    {"id": "mass", "label_en": "Mass", "label_zh": "大众", "lower": 0, "upper": 50_000},
    {"id": "affluent", "label_en": "Affluent", "label_zh": "财富", "lower": 50_000, "upper": 500_000},
    {"id": "jinkuihua", "label_en": "Jinkuihua", "label_zh": "金葵花", "lower": 500_000, "upper": 5_000_000},
    {"id": "private", "label_en": "Private", "label_zh": "私行", "lower": 5_000_000}]})
PANEL = Panel(path="panel.csv", id_column="id", month_column="month", aum_column="aum", months_below=3,
              trend_months=1)


def test_tier_bounds_are_lower_inclusive():
    values = pd.Series([0, 49_999.99, 50_000, 499_999.99, 500_000, 4_999_999.99, 5_000_000, 1e12])
    assert customer_base.assign_tiers(values, TIERS).tolist() == [
        "mass", "mass", "affluent", "affluent", "jinkuihua", "jinkuihua", "private", "private"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda levels: levels[1].update(lower=60_000), "gap between tier 'mass'"),
    (lambda levels: levels[1].update(lower=40_000), "overlap between tier 'mass'"),
    (lambda levels: levels[0].update(lower=1), "tiers must start at 0"),
    (lambda levels: levels[3].update(upper=1e9), "must have no upper bound"),
    (lambda levels: levels[2].pop("upper"), "only the top tier is open-ended"),
])
def test_tiers_must_cover_the_half_line(change, message):
    raw = copy.deepcopy(TIERS.model_dump())
    change(raw["levels"])
    with pytest.raises(ValidationError, match=message):
        Tiers.model_validate(raw)


def test_tier_gap_in_a_params_file_names_file_and_key(root, tmp_path):
    raw = yaml.safe_load((root / "params" / "a_branch.yaml").read_text(encoding="utf-8"))
    raw["customer_base"]["tiers"]["levels"][2]["lower"] = 600000
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_params(path)
    assert error.value.key == "customer_base.tiers"
    assert "gap between tier 'affluent' (upper 500000) and tier 'jinkuihua' (lower 600000)" in str(error.value)


def panel_of(rows: dict[str, list[float]]) -> PanelData:
    """A panel from AUM rows (NaN = no row); months 2024-01 onwards."""
    aum = np.array(list(rows.values()), dtype=float)
    present = ~np.isnan(aum)
    first = present.argmax(axis=1)
    last = aum.shape[1] - 1 - present[:, ::-1].argmax(axis=1)
    return PanelData(pd.Index(list(rows), name="customer_id"), pd.period_range("2024-01", periods=aum.shape[1],
                     freq="M"), aum, None, first, last)


NAN = np.nan
HAND = panel_of({
    "below_then_back": [600e3, 600e3, 400e3, 400e3, 400e3, 600e3],   # lost in month 2, stays lost
    "short_dip": [600e3, 400e3, 400e3, 600e3, 600e3, 600e3],          # 2 months below: not lost
    "closes": [600e3, 600e3, 600e3, 700e3, NAN, NAN],                 # closes in month 4
    "below_then_closes": [600e3, 600e3, 600e3, 700e3, 300e3, NAN],    # below in 4, closes in 5: loss in 4
    "new_and_falls": [NAN, NAN, 60e3, 40e3, 40e3, 40e3],              # opens in 2 (affluent), lost in 3
    "mass_small": [1e3, 0.0, 0.0, 0.0, 0.0, 0.0],                     # floor 0: never below
    "pending": [600e3, 600e3, 600e3, 600e3, 400e3, 400e3],            # 2 months left: not (yet) lost
})


def test_loss_rule_on_a_hand_made_panel():
    table = customer_base.panel_customer_table(HAND, TIERS, PANEL, None)
    expected = pd.DataFrame({
        "tier": ["jinkuihua"] * 4 + ["affluent", "mass", "jinkuihua"],
        "lost": [1, 0, 1, 1, 1, 0, 0],
        "loss_month": ["2024-03", "", "2024-05", "2024-05", "2024-04", "", ""],
        "loss_reason": ["below floor", "", "closed", "closed", "below floor", "", ""],
        "assets_lost": [600e3, 0, 700e3, 700e3, 60e3, 0, 0],
        "duration": [2, 6, 4, 4, 1, 6, 6],
        "aum_start": [600e3] * 4 + [60e3, 1e3, 600e3],
        "aum_end": [600e3, 600e3, 0, 0, 40e3, 0, 400e3],
    }, index=HAND.customers)
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_dtype=False)
    assert table["first_month"].tolist()[4] == "2024-03"


def test_a_closure_is_labelled_closed_however_many_months_remain():
    """With k or more months left after a closure, the closed months alone form a run of k 'below floor' months;
    the reason is still 'closed' (the bug labelled these 'below floor', 1,355 mass-tier customers among them)."""
    panel = panel_of({
        "closes_early": [600e3, 700e3, NAN, NAN, NAN, NAN],        # closes in month 2, 4 months left
        "mass_closes": [1e3, 2e3, NAN, NAN, NAN, NAN],             # floor 0: lost only by closing
        "below_then_closes": [600e3, 400e3, NAN, NAN, NAN, NAN],   # 1 month below, then closes
        "below_k_then_closes": [600e3, 400e3, 400e3, 400e3, NAN, NAN],  # k = 3 months below before closing
    })
    table = customer_base.panel_customer_table(panel, TIERS, PANEL, None)
    assert table["loss_reason"].tolist() == ["closed", "closed", "closed", "below floor"]
    assert table["loss_month"].tolist() == ["2024-03", "2024-03", "2024-02", "2024-02"]
    assert table["assets_lost"].tolist() == [700e3, 2e3, 600e3, 600e3]


def test_committed_mass_tier_losses_are_closures(root):
    """The mass tier's floor is 0, so its customers can only be lost by closing."""
    customers = pd.read_csv(root / "data" / "processed" / "a_branch" / "customer_base.csv")
    mass = customers[(customers["tier"] == "mass") & (customers["lost"] == 1)]
    assert len(mass) > 1000 and set(mass["loss_reason"]) == {"closed"}


def test_loss_rule_counts_k_months_below():
    one_month = customer_base.loss_events(HAND, np.full(7, 500e3), months_below=1)
    assert one_month.loc["short_dip", "loss_month_index"] == 1
    assert one_month.loc["pending", "loss_month_index"] == 4


def test_aum_trend_and_tenure():
    table = customer_base.panel_customer_table(HAND, TIERS, PANEL, pd.Series([10, 10, 10, 10, 0, 10, 10],
                                                                             index=HAND.customers))
    # m = 1: the month before the loss (or the last month) over the month before that
    assert table.loc["below_then_closes", "aum_trend"] == pytest.approx(700 / 600 - 1)
    assert table.loc["pending", "aum_trend"] == pytest.approx(0.0)
    assert table.loc["below_then_back", "aum_trend"] == pytest.approx(0.0)  # months 0 and 1, both 600k
    assert np.isnan(table.loc["new_and_falls", "aum_trend"])                # one month before its loss
    assert table["tenure"].tolist() == [12, 16, 14, 14, 1, 16, 16]


def test_monthly_flows_and_migration_on_the_hand_panel():
    customers = customer_base.panel_customer_table(HAND, TIERS, PANEL, None)
    flows = customer_base.monthly_flows(HAND, customers, TIERS).set_index(["tier", "month"])
    jinkuihua = flows.loc["jinkuihua"]
    assert jinkuihua["lost"].tolist()[1:] == [0, 1, 0, 2, 0]
    assert jinkuihua["customers_start"].tolist()[1:] == [5, 5, 4, 4, 2]
    assert jinkuihua.loc["2024-05", "loss_rate"] == pytest.approx(2 / 4)
    assert jinkuihua.loc["2024-05", "assets_lost"] == 1.4e6
    assert flows.loc[("affluent", "2024-03"), "new"] == 1
    migration = customer_base.tier_migration(HAND, TIERS, None, None).set_index(["from_tier", "to_tier"])
    assert migration.loc[("jinkuihua", "jinkuihua"), "customers"] == 2   # below_then_back, short_dip
    assert migration.loc[("jinkuihua", "closed"), "customers"] == 2
    assert migration.loc[("jinkuihua", "affluent"), "customers"] == 1    # pending
    assert migration.loc[("new", "mass"), "customers"] == 1
    assert migration.loc[("jinkuihua", "closed"), "row_share"] == pytest.approx(2 / 5)


def write_panel(tmp_path, rows):
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["id", "month", "aum"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("rows", "message", "row"), [
    ([("a", "2024-01", 1), ("a", "2024-01", 2), ("b", "2024-01", 1)], "has two rows for 2024-01", 3),
    ([("a", "2024-01", 1), ("x", "2024-01", 2), ("b", "2024-01", 1)], "customer 'x' is not in the customer file", 3),
    ([("a", "2024-01", 1), ("a", "2024-02", -5), ("b", "2024-01", 1)], "AUM must be a non-negative number", 3),
    ([("a", "2024-01", 1), ("a", "someday", 5), ("b", "2024-01", 1)], "'someday' is not a month", 3),
    ([("a", "2024-01", 1), ("a", "2024-02", "12万元"), ("b", "2024-01", "x")], "cell 'x' is not a number", 4),
    ([("a", "2024-01", 1), ("a", "2024-03", 1), ("b", "2024-01", 1)], "no row for 2024-02", None),
    ([("a", "2024-01", 1)], "customer 'b' has no panel rows", None),
])
def test_panel_mistakes_name_file_and_row(tmp_path, rows, message, row):
    path = write_panel(tmp_path, rows)
    with pytest.raises(InputError, match=message) as error:
        customer_base.read_panel(PANEL, path, pd.Index(["a", "b"]))
    assert error.value.file == str(path)
    assert error.value.row == row


def test_panel_amounts_with_units_are_converted(tmp_path):
    path = write_panel(tmp_path, [("a", "2024-01", "1.5万元"), ("a", "2024-02", "20,000"), ("b", "2024-02", 3)])
    data = customer_base.read_panel(PANEL, path, pd.Index(["a", "b"]))
    np.testing.assert_array_equal(data.aum, [[15000, 20000], [np.nan, 3]])
    assert data.first.tolist() == [0, 1]


def test_lifecycle_first_matching_rule_wins():
    lifecycle = Lifecycle.model_validate({"tenure": "tenure", "trend": "trend", "stages": [
        {"id": "lost", "label_en": "", "label_zh": "", "lost": True},
        {"id": "acquisition", "label_en": "", "label_zh": "", "max_tenure": 12},
        {"id": "decline", "label_en": "", "label_zh": "", "max_trend": -0.1},
        {"id": "growth", "label_en": "", "label_zh": "", "min_trend": 0.1},
        {"id": "maturity", "label_en": "", "label_zh": ""}]})
    customers = pd.DataFrame({"lost": [1, 0, 0, 0, 0, 0, 0], "tenure": [5, 11.9, 12, 12, 40, 40, 40],
                              "trend": [0.5, -0.5, -0.1001, -0.1, 0.1, np.nan, 0.0]})
    # minimum inclusive, maximum exclusive; a missing trend fails every trend condition
    assert customer_base.lifecycle_stage(customers, lifecycle).tolist() == [
        "lost", "acquisition", "decline", "maturity", "growth", "maturity", "maturity"]
    with pytest.raises(ValidationError, match="must have no conditions"):
        Lifecycle.model_validate({"tenure": "t", "trend": "t", "stages": [
            {"id": "a", "label_en": "", "label_zh": ""}, {"id": "b", "label_en": "", "label_zh": "", "lost": True}]})


def test_attrition_by_tier_totals():
    customers = pd.DataFrame({"tier": ["mass", "mass", "jinkuihua", "jinkuihua"], "lost": [1, 0, 1, 1],
                              "assets": [10.0, 30.0, 600.0, 400.0], "assets_lost": [10.0, 0.0, 500.0, 100.0]})
    table = customer_base.attrition_by_tier(customers, TIERS, "assets").set_index("tier")
    assert table.loc["all", "lost"] == 3 and table.loc["all", "customers"] == 4
    assert table.loc["mass", "loss_rate"] == 0.5
    assert table.loc["jinkuihua", "assets_lost_share"] == pytest.approx(0.6)
    assert table.loc["jinkuihua", "share_of_all_lost_assets"] == pytest.approx(600 / 610)
    assert table.loc["private", "customers"] == 0


@pytest.mark.parametrize("value", [-1.0, np.nan, np.inf])
def test_a_negative_or_missing_basis_has_no_tier(value):
    """searchsorted put a negative or missing value in the top tier; now it is an error naming the customer."""
    with pytest.raises(InputError, match="customer 'c' has tier basis .*non-negative number"):
        customer_base.assign_tiers(pd.Series([10.0, 1e6, value], index=["a", "b", "c"]), TIERS)


def test_tier_bounds_are_converted_to_the_basis_unit():
    """Bounds in 元 cut values in 万元 at 5 万元 (50,000 元), 50 and 500 万元."""
    values = pd.Series([4.99, 5.0, 49.99, 50.0, 500.0])
    assert customer_base.assign_tiers(values, TIERS, "万元").tolist() == [
        "mass", "affluent", "affluent", "jinkuihua", "private"]
    assert customer_base.tier_floors(TIERS, "万元").tolist() == [0, 5, 50, 500]


def test_units_that_cannot_be_reconciled_are_an_error(root, tmp_path):
    raw = yaml.safe_load((root / "params" / "bank_churners.yaml").read_text(encoding="utf-8"))
    raw["customer_base"]["tiers"]["unit"] = "万元"  # the credit limit is in USD
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="the tiers' unit '万元' cannot be reconciled with 'USD'"):
        load_params(path)


def test_a_panel_in_wan_yuan_gives_the_same_tiers(root, tmp_path):
    """The same panel in 万元 with tiers in 元 gives the tiers, losses and flows of the panel in 元."""
    params = load_params(root / "params" / "a_branch.yaml")
    customers = pd.Index([f"C{i}" for i in range(len(HAND.customers))], name="customer_id")
    in_yuan = PanelData(customers, HAND.months, HAND.aum, None, HAND.first, HAND.last)
    in_wan = PanelData(customers, HAND.months, HAND.aum / 1e4, None, HAND.first, HAND.last)
    wan_panel = PANEL.model_copy(update={"unit": "万元"})
    a = customer_base.panel_customer_table(in_yuan, TIERS, PANEL, None)
    b = customer_base.panel_customer_table(in_wan, TIERS, wan_panel, None)
    pd.testing.assert_series_equal(a["tier"], b["tier"])
    pd.testing.assert_series_equal(a["loss_reason"], b["loss_reason"])
    assert a["assets_lost"].tolist() == pytest.approx((b["assets_lost"] * 1e4).tolist())
    assert params.customer_base.tier_basis_unit(params.indicators) == "元"
