"""Customer base: tier bounds, the loss rule on hand-made panels, panel checks, flows, migration, life cycle."""
from __future__ import annotations

import copy
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from crmlib import customer_base, engine, load_params
from crmlib.errors import InputError
from crmlib.params import Lifecycle, Panel, Tiers

TIERS = Tiers.model_validate({"basis": "aum_start", "focus": "jinkuihua", "levels": [
    {"id": "mass", "label_en": "Mass", "label_zh": "大众", "lower": 0, "upper": 50_000},
    {"id": "affluent", "label_en": "Affluent", "label_zh": "财富", "lower": 50_000, "upper": 500_000},
    {"id": "jinkuihua", "label_en": "Jinkuihua", "label_zh": "金葵花", "lower": 500_000, "upper": 5_000_000},
    {"id": "private", "label_en": "Private", "label_zh": "私行", "lower": 5_000_000}]})
PANEL = Panel(path="panel.csv", id_column="id", month_column="month", aum_column="aum", months_below=3,
              trend_months=1)


def tiers_of(values, unit=None, run=None) -> list[str]:
    """The tiers of ``values`` (in ``unit``) by :func:`crmlib.customer_base.tier_case`, in the engine ``run``."""
    run = run or engine.current()
    run.table("amounts", pd.DataFrame({"position": range(len(values)), "amount": values}))
    return run.query(f"SELECT {customer_base.tier_case('amount', TIERS, unit)} AS tier FROM amounts "
                     "ORDER BY position")["tier"].tolist()


def test_tier_bounds_are_lower_inclusive(run):
    values = [0, 49_999.99, 50_000, 499_999.99, 500_000, 4_999_999.99, 5_000_000, 1e12]
    assert tiers_of(values, run=run) == [
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


LIFECYCLE = Lifecycle.model_validate({"tenure": "tenure", "trend": "aum_trend", "stages": [
    {"id": "lost", "label_en": "", "label_zh": "", "lost": True},
    {"id": "active", "label_en": "", "label_zh": ""}]})
NAN = np.nan
HAND = {
    "below_then_back": [600e3, 600e3, 400e3, 400e3, 400e3, 600e3],   # lost in month 2, stays lost
    "short_dip": [600e3, 400e3, 400e3, 600e3, 600e3, 600e3],          # 2 months below: not lost
    "closes": [600e3, 600e3, 600e3, 700e3, NAN, NAN],                 # closes in month 4
    "below_then_closes": [600e3, 600e3, 600e3, 700e3, 300e3, NAN],    # below in 4, closes in 5: loss in 4
    "new_and_falls": [NAN, NAN, 60e3, 40e3, 40e3, 40e3],              # opens in 2 (affluent), lost in 3
    "mass_small": [1e3, 0.0, 0.0, 0.0, 0.0, 0.0],                     # floor 0: never below
    "pending": [600e3, 600e3, 600e3, 600e3, 400e3, 400e3],            # 2 months left: not (yet) lost
}


def load_panel(run, rows: dict[str, list[float]], directory, panel=PANEL, tenure=None, scale=1.0):
    """Register a panel made from AUM rows (NaN = no row; months 2024-01 onwards), written as a CSV, and the
    customer file's ids (with ``tenure_start``), in the engine ``run``."""
    months = pd.period_range("2024-01", periods=len(next(iter(rows.values()))), freq="M").astype(str)
    long = [(customer, months[m], aum * scale) for customer, values in rows.items() for m, aum in enumerate(values)
            if not np.isnan(aum)]
    path = directory / "panel.csv"
    pd.DataFrame(long, columns=["id", "month", "aum"]).to_csv(path, index=False)
    run.table("indicators", pd.DataFrame({"customer_id": list(rows),
                                          "tenure_start": tenure if tenure is not None else 0.0}))
    return customer_base.read_panel(run, panel, path, tiers=TIERS)


def customers_of(run, rows, directory, panel=PANEL, tenure=None, scale=1.0):
    """The customer table of a hand-made panel (:func:`crmlib.customer_base.panel_customer_table`), in the
    order of ``rows``, and the panel's months. Made twice, with the loss rule applied to the runs of rows below the
    floor as islands (as for a panel longer than MASK_MONTHS) and to bit masks (the default), which must agree; the
    engine keeps the second."""
    tables = []
    for mask_months in (0, customer_base.MASK_MONTHS):
        with mock.patch.object(customer_base, "MASK_MONTHS", mask_months):
            months = load_panel(run, rows, directory, panel, tenure, scale)
            customer_base.panel_customer_table(run, months, TIERS, panel, LIFECYCLE,
                                               "tenure_start" if tenure is not None else None)
            tables.append(customer_base.customer_table(run).frame().loc[list(rows)])
    pd.testing.assert_frame_equal(*tables)
    return tables[1], months


def test_loss_rule_on_a_hand_made_panel(run, tmp_path):
    table, _ = customers_of(run, HAND, tmp_path)
    expected = pd.DataFrame({
        "tier": ["jinkuihua"] * 4 + ["affluent", "mass", "jinkuihua"],
        "lost": [1, 0, 1, 1, 1, 0, 0],
        "loss_month": ["2024-03", "", "2024-05", "2024-05", "2024-04", "", ""],
        "loss_reason": ["below floor", "", "closed", "closed", "below floor", "", ""],
        "assets_lost": [600e3, 0, 700e3, 700e3, 60e3, 0, 0],
        "duration": [2, 6, 4, 4, 1, 6, 6],
        "aum_start": [600e3] * 4 + [60e3, 1e3, 600e3],
        "aum_end": [600e3, 600e3, 0, 0, 40e3, 0, 400e3],
        "lifecycle": ["lost", "active", "lost", "lost", "lost", "active", "active"],
    }, index=pd.Index(list(HAND), name="customer_id"))
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_dtype=False)
    assert table["first_month"].tolist()[4] == "2024-03"


def test_a_closure_is_labelled_closed_however_many_months_remain(run, tmp_path):
    """With k or more months left after a closure, the closed months alone form a run of k 'below floor' months;
    the reason is still 'closed' (the bug labelled these 'below floor', 1,355 mass-tier customers among them)."""
    table, _ = customers_of(run, {
        "closes_early": [600e3, 700e3, NAN, NAN, NAN, NAN],        # closes in month 2, 4 months left
        "mass_closes": [1e3, 2e3, NAN, NAN, NAN, NAN],             # floor 0: lost only by closing
        "below_then_closes": [600e3, 400e3, NAN, NAN, NAN, NAN],   # 1 month below, then closes
        "below_k_then_closes": [600e3, 400e3, 400e3, 400e3, NAN, NAN],  # k = 3 months below before closing
    }, tmp_path)
    assert table["loss_reason"].tolist() == ["closed", "closed", "closed", "below floor"]
    assert table["loss_month"].tolist() == ["2024-03", "2024-03", "2024-02", "2024-02"]
    assert table["assets_lost"].tolist() == [700e3, 2e3, 600e3, 600e3]


def test_committed_mass_tier_losses_are_closures(root):
    """The mass tier's floor is 0, so its customers can only be lost by closing."""
    customers = pd.read_csv(root / "data" / "processed" / "a_branch" / "customer_base.csv")
    mass = customers[(customers["tier"] == "mass") & (customers["lost"] == 1)]
    assert len(mass) > 1000 and set(mass["loss_reason"]) == {"closed"}


@pytest.mark.parametrize("months_below", [1, 3])
def test_bit_masks_and_islands_give_the_same_losses_on_a_synthetic_base(root, tmp_path, months_below):
    """The two ways of applying the loss rule agree on 3,000 synthetic A-branch customers (24 months, closures,
    dips below the floor, customers opening in the window)."""
    from crmlib.synthetic import synthesize_panel
    params = load_params(root / "params" / "a_branch.yaml")
    base = params.customer_base
    panel = base.panel.model_copy(update={"months_below": months_below})
    customers, rows = synthesize_panel(params, n_customers=3000, seed=11)
    path = tmp_path / "panel.csv"
    rows.to_csv(path, index=False)
    run = engine.current()
    run.table("indicators", customers.rename(columns={params.data.id_column: "customer_id"}))
    tables = []
    for mask_months in (0, customer_base.MASK_MONTHS):
        with mock.patch.object(customer_base, "MASK_MONTHS", mask_months):
            months = customer_base.read_panel(run, panel, path, tiers=base.tiers)
            customer_base.panel_customer_table(run, months, base.tiers, panel, base.lifecycle, None)
            tables.append(customer_base.customer_table(run).frame())
    pd.testing.assert_frame_equal(*tables)
    assert 0 < tables[0]["lost"].sum() < 3000 and set(tables[0]["loss_reason"]) == {"", "closed", "below floor"}


def test_loss_rule_counts_k_months_below(tmp_path):
    table, _ = customers_of(engine.current(), HAND, tmp_path, PANEL.model_copy(update={"months_below": 1}))
    assert table.loc["short_dip", "loss_month"] == "2024-02"
    assert table.loc["pending", "loss_month"] == "2024-05"


def test_aum_trend_and_tenure(tmp_path):
    table, _ = customers_of(engine.current(), HAND, tmp_path, tenure=[10, 10, 10, 10, 0, 10, 10])
    # m = 1: the month before the loss (or the last month) over the month before that
    assert table.loc["below_then_closes", "aum_trend"] == pytest.approx(700 / 600 - 1)
    assert table.loc["pending", "aum_trend"] == pytest.approx(0.0)
    assert table.loc["below_then_back", "aum_trend"] == pytest.approx(0.0)  # months 0 and 1, both 600k
    assert np.isnan(table.loc["new_and_falls", "aum_trend"])                # one month before its loss
    assert table["tenure"].tolist() == [12, 16, 14, 14, 1, 16, 16]


def test_monthly_flows_and_migration_on_the_hand_panel(run, tmp_path):
    _, months = customers_of(run, HAND, tmp_path)
    flows = customer_base.monthly_flows(run, months, TIERS).set_index(["tier", "month"])
    jinkuihua = flows.loc["jinkuihua"]
    assert jinkuihua["lost"].tolist()[1:] == [0, 1, 0, 2, 0]
    assert jinkuihua["customers_start"].tolist()[1:] == [5, 5, 4, 4, 2]
    assert jinkuihua.loc["2024-05", "loss_rate"] == pytest.approx(2 / 4)
    assert jinkuihua.loc["2024-05", "assets_lost"] == 1.4e6
    assert jinkuihua["aum"].tolist() == [3.0e6, 2.8e6, 2.2e6, 2.6e6, 1.0e6, 1.0e6]  # customers not yet lost
    assert flows.loc[("affluent", "2024-03"), "new"] == 1
    migration = customer_base.tier_migration(run, months, TIERS, None, None).set_index(
        ["from_tier", "to_tier"])
    assert migration.loc[("jinkuihua", "jinkuihua"), "customers"] == 2   # below_then_back, short_dip
    assert migration.loc[("jinkuihua", "closed"), "customers"] == 2
    assert migration.loc[("jinkuihua", "affluent"), "customers"] == 1    # pending
    assert migration.loc[("new", "mass"), "customers"] == 1
    assert migration.loc[("jinkuihua", "closed"), "row_share"] == pytest.approx(2 / 5)
    # months other than the window's first and last are read from the rows
    between = customer_base.tier_migration(run, months, TIERS, "2024-02", "2024-05").set_index(
        ["from_tier", "to_tier"])["customers"]
    assert between[between > 0].to_dict() == {("mass", "mass"): 1, ("affluent", "jinkuihua"): 1,
                                              ("jinkuihua", "affluent"): 3, ("jinkuihua", "closed"): 1,
                                              ("new", "mass"): 1}


def write_panel(tmp_path, rows):
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["id", "month", "aum"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("rows", "message", "row"), [
    ([("a", "2024-01", 1), ("", "2024-01", 2), ("b", "2024-01", 1)], "empty customer id", 3),
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
    run = engine.current()
    run.table("indicators", pd.DataFrame({"customer_id": ["a", "b"]}))
    with pytest.raises(InputError, match=message) as error:
        customer_base.read_panel(run, PANEL, path)
    assert error.value.file == str(path)
    assert error.value.row == row


def test_panel_amounts_with_units_are_converted(tmp_path):
    path = write_panel(tmp_path, [("a", "2024-01", "1.5万元"), ("a", "2024-02", "20,000"), ("b", "2024-02", 3)])
    run = engine.current()
    run.table("indicators", pd.DataFrame({"customer_id": ["a", "b"]}))
    months = customer_base.read_panel(run, PANEL, path)
    rows = run.query("SELECT id, m, aum FROM panel_rows ORDER BY id, m")
    assert rows.values.tolist() == [["a", 0, 15000.0], ["a", 1, 20000.0], ["b", 1, 3.0]]
    assert months.labels == ["2024-01", "2024-02"]


def test_only_amounts_written_as_text_are_checked_for_units(tmp_path):
    """A CSV panel, or a Parquet panel whose amounts are text, is checked for amounts with units or separators (and
    converted); a Parquet panel of numbers needs no such pass and reads the same numbers."""
    run = engine.current()
    run.table("indicators", pd.DataFrame({"customer_id": ["a", "b"]}))
    written = pd.DataFrame({"id": ["a", "a", "b"], "month": ["2024-01", "2024-02", "2024-02"],
                            "aum": ["1.5万元", "20,000", "3"]})
    cases = {"csv": write_panel(tmp_path, [tuple(r) for r in written.itertuples(index=False)]),
             "text.parquet": tmp_path / "text.parquet", "numbers.parquet": tmp_path / "numbers.parquet"}
    written.to_parquet(cases["text.parquet"], index=False)
    written.assign(aum=[15000.0, 20000.0, 3.0]).to_parquet(cases["numbers.parquet"], index=False)
    for name, path in cases.items():
        customer_base._register_raw(run, PANEL, path)
        assert customer_base._amounts_as_text(run, PANEL) == (name != "numbers.parquet"), name
        customer_base.read_panel(run, PANEL.model_copy(update={"path": path}), path)
        rows = run.query("SELECT id, m, aum FROM panel_rows ORDER BY id, m")
        assert rows.values.tolist() == [["a", 0, 15000.0], ["a", 1, 20000.0], ["b", 1, 3.0]], name


def test_a_panel_in_parquet_reads_as_the_csv(tmp_path):
    """A Parquet panel (a file, or a directory of partitions) gives the customer table of the same CSV panel."""
    run = engine.current()
    from_csv, _ = customers_of(run, HAND, tmp_path)
    frame = pd.read_csv(tmp_path / "panel.csv", dtype={"id": str, "month": str})
    (tmp_path / "parts").mkdir()
    run.table("csv_panel", frame)
    run.write_parquet("SELECT * FROM csv_panel WHERE month < '2024-04'", tmp_path / "parts" / "a.parquet")
    run.write_parquet("SELECT * FROM csv_panel WHERE month >= '2024-04'", tmp_path / "parts" / "b.parquet")
    for source in (tmp_path / "parts", tmp_path / "parts" / "a.parquet"):
        months = customer_base.read_panel(run, PANEL.model_copy(update={"path": source}), source, tiers=TIERS)
        if source.is_dir():
            customer_base.panel_customer_table(run, months, TIERS, PANEL, LIFECYCLE, None)
            pd.testing.assert_frame_equal(customer_base.customer_table(run).frame().loc[list(HAND)], from_csv)
        else:
            assert months.labels == ["2024-01", "2024-02", "2024-03"]


def test_lifecycle_first_matching_rule_wins():
    lifecycle = Lifecycle.model_validate({"tenure": "tenure", "trend": "trend", "stages": [
        {"id": "lost", "label_en": "", "label_zh": "", "lost": True},
        {"id": "acquisition", "label_en": "", "label_zh": "", "max_tenure": 12},
        {"id": "decline", "label_en": "", "label_zh": "", "max_trend": -0.1},
        {"id": "growth", "label_en": "", "label_zh": "", "min_trend": 0.1},
        {"id": "maturity", "label_en": "", "label_zh": ""}]})
    customers = pd.DataFrame({"customer_id": list("abcdefg"), "lost": [1, 0, 0, 0, 0, 0, 0],
                              "tenure": [5, 11.9, 12, 12, 40, 40, 40], "trend": [0.5, -0.5, -0.1001, -0.1, 0.1, np.nan, 0.0]})
    run = engine.current()
    run.table("customers", customers)
    stages = run.query(f"SELECT {customer_base.lifecycle_case(lifecycle)} AS stage FROM customers ORDER BY customer_id")
    # minimum inclusive, maximum exclusive; a missing trend fails every trend condition
    assert stages["stage"].tolist() == [
        "lost", "acquisition", "decline", "maturity", "growth", "maturity", "maturity"]
    with pytest.raises(ValidationError, match="must have no conditions"):
        Lifecycle.model_validate({"tenure": "t", "trend": "t", "stages": [
            {"id": "a", "label_en": "", "label_zh": ""}, {"id": "b", "label_en": "", "label_zh": "", "lost": True}]})


def test_attrition_by_tier_totals(run):
    run.table("customer_base", pd.DataFrame({
        "customer_id": list("abcd"), "tier": ["mass", "mass", "jinkuihua", "jinkuihua"], "lost": [1, 0, 1, 1],
        "assets": [10.0, 30.0, 600.0, 400.0], "assets_lost": [10.0, 0.0, 500.0, 100.0]}))
    table = customer_base.attrition_by_tier(run, TIERS, "assets").set_index("tier")
    assert table.loc["all", "lost"] == 3 and table.loc["all", "customers"] == 4
    assert table.loc["mass", "loss_rate"] == 0.5
    assert table.loc["jinkuihua", "assets_lost_share"] == pytest.approx(0.6)
    assert table.loc["jinkuihua", "share_of_all_lost_assets"] == pytest.approx(600 / 610)
    assert table.loc["private", "customers"] == 0


@pytest.mark.parametrize("value", [-1.0, np.nan, np.inf])
def test_a_negative_or_missing_basis_has_no_tier(value):
    """A negative, missing or infinite basis value is an error naming the customer, never a tier."""
    with pytest.raises(InputError, match="customer 'c' has tier basis .*non-negative number"):
        customer_base.check_tier_basis(pd.Series([10.0, 1e6, value], index=["a", "b", "c"]))


def test_tier_bounds_are_converted_to_the_basis_unit():
    """Bounds in 元 cut values in 万元 at 5 万元 (50,000 元), 50 and 500 万元."""
    assert tiers_of([4.99, 5.0, 49.99, 50.0, 500.0], "万元") == ["mass", "affluent", "affluent", "jinkuihua",
                                                               "private"]
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
    a, _ = customers_of(engine.current(), HAND, tmp_path)
    b, _ = customers_of(engine.current(), HAND, tmp_path, PANEL.model_copy(update={"unit": "万元"}), scale=1e-4)
    pd.testing.assert_series_equal(a["tier"], b["tier"])
    pd.testing.assert_series_equal(a["loss_reason"], b["loss_reason"])
    assert a["assets_lost"].tolist() == pytest.approx((b["assets_lost"] * 1e4).tolist())
    assert params.customer_base.tier_basis_unit(params.indicators) == "元"
