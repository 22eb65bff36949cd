"""Customer indicators built from transactions (crmlib.transactions), on hand-made tables, on synthetic transactions
against an independent pandas computation, on the CDNOW file against its published counts, and on Spark."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from crmlib import engine, transactions
from crmlib.errors import InputError
from crmlib.schema import DataSource, Indicator
from crmlib.synthetic import synthesize_transactions

from conftest import engine_or_skip

ALL = ["recency_days", "frequency", "monetary", "average_amount", "tenure_days", "amount_trend", "products"]


def source(path, **spec) -> DataSource:
    spec = {"date_column": "date", "amount_column": "amount", "type_column": "product"} | spec
    return DataSource(path=path, kind="synthetic", provenance="test", id_column="customer_id", transactions=spec)


def indicators(columns=ALL) -> list[Indicator]:
    return [Indicator(id=c, label_en=c, unit="x", direction="benefit", dimension="d", column=c) for c in columns]


def build(run, rows, tmp_path, **spec) -> transactions.Built:
    path = tmp_path / "transactions.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount", "product"]).to_csv(path, index=False)
    return transactions.read_measures(run, source(path, **spec), path, indicators())


def test_indicators_on_a_hand_made_table(run, tmp_path):
    """Observation end 2024-07-01, trend over 3 months: recent = April to June, earlier = January to March."""
    rows = [("A", "2023-12-20", 5.0, "deposit"), ("A", "2024-01-10", 100.0, "card"), ("A", "2024-02-05", 50.0, "fund"),
            ("A", "2024-05-01", 30.0, "card"), ("A", "2024-05-01", 20.0, "card"), ("A", "2024-06-30", 75.0, "loan"),
            ("B", "2024-03-01", 40.0, "card"),                     # first transaction after 2024-01-01: no trend
            ("C", "2023-12-01", 10.0, "card"), ("C", "2024-02-01", -10.0, "card"),  # a refund: earlier sum 0
            ("A", "2024-07-01", 999.0, "card")]                    # on the end date: left out, counted
    built = build(run, rows, tmp_path, as_of="2024-07-01", trend_months=3)
    values = built.measures.values
    assert list(values.index) == ["A", "B", "C"]
    a = values.loc["A"]
    assert a["recency_days"] == 1 and a["tenure_days"] == (date(2024, 7, 1) - date(2023, 12, 20)).days
    assert a["frequency"] == 5 and a["monetary"] == 280.0 and a["average_amount"] == 280.0 / 5
    assert a["amount_trend"] == pytest.approx(125.0 / 150.0 - 1, rel=1e-15) and a["products"] == 4
    assert np.isnan(values.loc["B", "amount_trend"]) and np.isnan(values.loc["C", "amount_trend"])
    assert values.loc["C", "monetary"] == 0.0 and values.loc["C", "frequency"] == 2
    summary = built.summary.iloc[0]
    assert (summary["rows"], summary["rows_used"], summary["rows_after_end"], summary["customers"]) == (10, 9, 1, 3)
    assert summary["last_day"] == "2024-06-30" and summary["amount"] == 320.0
    months = built.months.set_index("month")
    assert months.loc["2024-05", "transactions"] == 2 and months.loc["2024-05", "customers"] == 1
    assert months["new_customers"].to_dict() == {"2023-12": 2, "2024-01": 0, "2024-02": 0, "2024-03": 1,
                                                 "2024-05": 0, "2024-06": 0}


def test_the_observation_end_defaults_to_the_day_after_the_last_transaction(run, tmp_path):
    built = build(run, [("A", "2024-01-10", 1.0, "x"), ("B", "2024-03-05 14:30:00", 2.0, "x")], tmp_path)
    assert built.summary["as_of"].iloc[0] == "2024-03-06"
    assert built.measures.values["recency_days"].to_dict() == {"A": 56.0, "B": 1.0}


def independent(table: pd.DataFrame, as_of: str, months: int) -> pd.DataFrame:
    """The indicators computed with pandas, from the definitions, for comparison."""
    table = table.assign(day=pd.to_datetime(table["date"]))
    table = table[table["day"] < as_of]
    end = pd.Timestamp(as_of)
    recent, earlier = end - pd.DateOffset(months=months), end - pd.DateOffset(months=2 * months)
    groups = table.groupby("customer_id")
    result = pd.DataFrame({
        "recency_days": (end - groups["day"].max()).dt.days, "frequency": groups["day"].nunique(),
        "monetary": groups["amount"].sum(), "tenure_days": (end - groups["day"].min()).dt.days,
        "products": groups["product"].nunique()})
    result["average_amount"] = result["monetary"] / result["frequency"]
    last = table[table["day"] >= recent].groupby("customer_id")["amount"].sum()
    before = table[(table["day"] >= earlier) & (table["day"] < recent)].groupby("customer_id")["amount"].sum()
    last, before = last.reindex(result.index, fill_value=0.0), before.reindex(result.index, fill_value=0.0)
    long_enough = (groups["day"].min() <= earlier) & (before > 0)
    result["amount_trend"] = (last / before - 1).where(long_enough)
    return result


def test_synthetic_transactions_match_an_independent_computation(run, tmp_path):
    table = synthesize_transactions(3000, seed=7)
    path = tmp_path / "transactions.csv"
    table.to_csv(path, index=False)
    built = transactions.read_measures(run, source(path, as_of="2024-10-01", trend_months=6), path, indicators())
    expected = independent(table, "2024-10-01", 6).loc[built.measures.values.index, ALL]
    pd.testing.assert_frame_equal(built.measures.values, expected.astype(float), check_names=False, rtol=1e-12)
    assert built.summary["rows_after_end"].iloc[0] == int((table["date"] >= "2024-10-01").sum()) > 0


def test_the_generator_is_seeded():
    first, again, other = (synthesize_transactions(200, seed=s) for s in (1, 1, 2))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert list(first.columns) == ["customer_id", "date", "amount", "product"]
    assert first["customer_id"].nunique() == 200


def test_parquet_transactions_read_as_the_csv(run, tmp_path):
    table = synthesize_transactions(500, seed=3)
    csv, parquet = tmp_path / "t.csv", tmp_path / "t.parquet"
    table.to_csv(csv, index=False)
    table.to_parquet(parquet)
    from_csv = transactions.read_measures(run, source(csv), csv, indicators())
    from_parquet = transactions.read_measures(engine.current("duckdb"), source(parquet), parquet, indicators())
    pd.testing.assert_frame_equal(from_csv.measures.values, from_parquet.measures.values)
    pd.testing.assert_frame_equal(from_csv.months, from_parquet.months)


@pytest.mark.parametrize("row, column, message, file_row", [
    (("A", "2024-02-30", "1", "x"), "date", "'2024-02-30' is not a date written YYYY-MM-DD", 3),
    (("A", "2024-02-03", "12元", "x"), "amount", "the amount is '12元', not a number", 3),
    (("", "2024-02-03", "1", "x"), "customer_id", "empty customer id", 3),
])
def test_transaction_mistakes_name_file_column_and_row(run, tmp_path, row, column, message, file_row):
    path = tmp_path / "transactions.csv"
    pd.DataFrame([("B", "2024-01-01", "5", "x"), row], columns=["customer_id", "date", "amount", "product"]).to_csv(
        path, index=False)
    with pytest.raises(InputError) as error:
        transactions.read_measures(run, source(path), path, indicators())
    assert message in str(error.value)
    assert (error.value.column, error.value.row, error.value.file) == (column, file_row, str(path))


def test_a_missing_column_and_an_unknown_indicator_are_named(run, tmp_path):
    path = tmp_path / "transactions.csv"
    pd.DataFrame({"customer_id": ["A"], "date": ["2024-01-01"], "amount": [1.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="column not found") as error:
        transactions.read_measures(run, source(path), path, indicators())
    assert error.value.column == "product"
    with pytest.raises(InputError, match="choose one of recency_days, frequency") as error:
        transactions.read_measures(run, source(path, type_column=None), path, indicators(["frequency", "products"]))
    assert error.value.key == "indicators.1.column"


def test_a_transactions_table_needs_an_id_column():
    with pytest.raises(ValueError, match="a transactions table needs `id_column`"):
        DataSource(path="t.csv", kind="synthetic", provenance="test",
                   transactions={"date_column": "date", "amount_column": "amount"})


def cdnow(run, root, path=None) -> transactions.Built:
    """The CDNOW case's indicators, from its file or from ``path``, a file of the same format."""
    from crmlib import load_params
    params = load_params(root / "params" / "cdnow.yaml")
    return transactions.read_measures(run, params.data, path or params.data_path, indicators(ALL[:-1]))


def test_cdnow_gives_its_published_counts(run, root):
    """Fader, Hardie and Lee (2005): 23,570 customers of the first quarter of 1997, 69,659 transactions to the end
    of June 1998; the dollar total is the sum of the file's 69,659 amounts."""
    built = cdnow(run, root)
    summary = built.summary.iloc[0]
    assert (summary["rows"], summary["rows_used"], summary["customers"]) == (69659, 69659, 23570)
    assert (summary["first_day"], summary["last_day"]) == ("1997-01-01", "1998-06-30")
    assert summary["amount"] == pytest.approx(2500315.63, abs=1e-6)
    assert built.months["new_customers"].sum() == 23570
    assert built.months.loc[built.months["month"] > "1997-03", "new_customers"].eq(0).all()


@pytest.mark.xdist_group("spark")
def test_spark_builds_the_same_indicators(root, tmp_path):
    """On the CDNOW transactions of every fourth customer (5,892 of 23,570), as the file has them."""
    spark, duckdb = engine_or_skip("spark"), engine.current("duckdb")
    header, *lines = (root / "data" / "raw" / "cdnow" / "CDNOW_master.txt").read_text().splitlines(keepends=True)
    cut = tmp_path / "CDNOW_master.txt"
    cut.write_text(header + "".join(line for line in lines if int(line.split()[0]) % 4 == 0))
    results = [cdnow(run, root, cut) for run in (spark, duckdb)]
    assert results[1].summary.iloc[0]["customers"] == 5892
    pd.testing.assert_frame_equal(results[0].measures.values, results[1].measures.values, rtol=1e-12)
    pd.testing.assert_frame_equal(results[0].summary, results[1].summary)
    pd.testing.assert_frame_equal(results[0].months, results[1].months, check_dtype=False)
