"""Reading customer files: encodings, Excel, Chinese headers, units, and located errors."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from crmlib import InputError, engine, load_params
from crmlib.io import parse_numbers, read_indicators, read_measures, read_table, write_table

from conftest import engine_or_skip


def test_amount_units_and_separators_convert_to_declared_unit():
    cells = pd.Series(["1,234.5", "2万元", "30000元", "0.5亿元", " 7 ", ""])
    assert_allclose(parse_numbers(cells, "万元"), [1234.5, 2.0, 3.0, 5000.0, 7.0, float("nan")])
    assert_allclose(parse_numbers(pd.Series(["1.5万元", "100"]), "元"), [15000.0, 100.0])
    assert_allclose(parse_numbers(pd.Series(["12.5%", "3"]), "%"), [12.5, 3.0])


def test_non_numeric_cell_names_file_column_and_row():
    with pytest.raises(InputError, match=r"f\.csv, column 'c', row 4: cell 'abc' is not a number"):
        parse_numbers(pd.Series(["1", "2", "abc"]), "万元", file="f.csv", column="c", first_row=2)


def test_amount_unit_on_a_non_amount_indicator_is_an_error():
    with pytest.raises(InputError, match="carries an amount unit"):
        parse_numbers(pd.Series(["3万元"]), "years", column="age")


def test_gb18030_file_is_detected(make_case, tmp_path):
    path = make_case(n=30)
    csv = tmp_path / "customers.csv"
    utf8 = read_indicators(load_params(path))
    csv.write_bytes(csv.read_text(encoding="utf-8").encode("gb18030"))
    pd.testing.assert_frame_equal(read_indicators(load_params(path)), utf8)


def test_declared_encoding_is_used(make_case, tmp_path):
    path = make_case(n=30, edit_params=lambda p: p["data"].update(encoding="utf-8"))
    csv = tmp_path / "customers.csv"
    csv.write_bytes(csv.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(InputError, match=r"customers\.csv: text is not valid utf-8, the encoding declared"):
        read_indicators(load_params(path))


def test_excel_with_sheet_and_header_row(make_case, tmp_path):
    path = make_case(n=30, edit_params=lambda p: p["data"].update(path="customers.xlsx", sheet="客户", header_row=3))
    table = pd.read_csv(tmp_path / "customers.csv", dtype=str, keep_default_na=False)
    with pd.ExcelWriter(tmp_path / "customers.xlsx") as writer:
        pd.DataFrame({"x": ["导出自核心系统", ""]}).to_excel(writer, sheet_name="说明", index=False)
        table.to_excel(writer, sheet_name="客户", index=False, startrow=2)
    from_excel = read_indicators(load_params(path))
    csv_params = load_params(path).model_copy(update={"data": load_params(path).data.model_copy(
        update={"path": "customers.csv", "sheet": 0, "header_row": 1})})
    pd.testing.assert_frame_equal(from_excel, read_indicators(csv_params))


def test_missing_indicator_column(make_case):
    path = make_case(n=30, edit_data=lambda t: t.drop(columns="贷款余额(万元)"))
    with pytest.raises(InputError, match=r"customers\.csv, column '贷款余额\(万元\)': column not found"):
        read_indicators(load_params(path))


def test_non_numeric_cell_in_file(make_case):
    def corrupt(table):
        table.loc[6, "合作年限(年)"] = "十年"
        return table
    with pytest.raises(InputError, match=r"column '合作年限\(年\)', row 8: cell '十年' is not a number"):
        read_indicators(load_params(make_case(n=30, edit_data=corrupt)))


def test_duplicated_customer_id(make_case):
    def duplicate(table):
        table.loc[9, "客户编号"] = table.loc[2, "客户编号"]
        return table
    with pytest.raises(InputError, match=r"column '客户编号', row 11: customer id 'SX03' appears more than once"):
        read_indicators(load_params(make_case(n=30, edit_data=duplicate)))


def test_write_table_round_trips_floats_exactly(tmp_path):
    table = pd.DataFrame({"x": [0.1 + 0.2, 1 / 3, 1e-300, 123456789.123456789]})
    write_table(table, tmp_path / "t.csv")
    assert (read_table(tmp_path, "t")["x"].to_numpy() == table["x"].to_numpy()).all()
    assert not list(tmp_path.glob(".*tmp"))


def test_read_table_of_a_missing_stage_says_what_to_do(tmp_path):
    with pytest.raises(InputError, match="run the earlier stages first"):
        read_table(tmp_path, "factor_scores")


def test_full_width_digits_and_grouped_separators_are_read():
    cells = pd.Series(["１２３，４５６．７", "1 234 567", "-1,000", "12'345", "１２％"])
    assert_allclose(parse_numbers(cells[:4], "元"), [123456.7, 1234567.0, -1000.0, 12345.0])
    assert_allclose(parse_numbers(cells[4:], "%"), [12.0])


@pytest.mark.parametrize("cell", ["4,5", "7.658,45", "1,23", "12,3456"])
def test_a_comma_that_does_not_group_thousands_is_an_error(cell):
    """`4,5` used to be read as 45 (every comma stripped): now it stops, saying how to declare a decimal comma."""
    with pytest.raises(InputError, match=rf"f\.csv, column 'c', row 3: cell '{re.escape(cell)}': ',' does not "
                                         r"separate groups of three digits; if the file writes decimal commas "
                                         r"\(4,5 = 4\.5\), set data\.decimal: ','"):
        parse_numbers(pd.Series(["1", cell]), "元", file="f.csv", column="c", first_row=2)


def test_a_declared_decimal_comma():
    cells = pd.Series(["4,5", "7.658,45", "1 234,5", "12"])
    assert_allclose(parse_numbers(cells, "元", decimal=","), [4.5, 7658.45, 1234.5, 12.0])
    with pytest.raises(InputError, match=r"cell '1.5': '\.' does not separate groups of three digits; with "
                                         r"data.decimal ',' a dot may only separate thousands"):
        parse_numbers(pd.Series(["1.5"]), "元", decimal=",")


def test_decimal_comma_in_a_customer_file(make_case):
    """A file written the continental way (1.234,5): an error that says how to declare it, then read right."""
    def decimal_commas(table):
        for column in table.columns[1:]:
            table[column] = table[column].str.translate(str.maketrans({",": ".", ".": ","}))
        return table
    with pytest.raises(InputError, match=r"column '日均存款余额\(万元\)', row 2: .* set data.decimal: ','"):
        read_indicators(load_params(make_case(n=30, edit_data=decimal_commas)))
    plain = read_indicators(load_params(make_case(n=30)))
    params = load_params(make_case(n=30, edit_data=decimal_commas, edit_params=lambda p: p["data"].update(decimal=",")))
    pd.testing.assert_frame_equal(read_indicators(params), plain)


def test_rows_that_are_not_customers_are_left_out_and_listed(make_case):
    """A bank export's extra rows (a blank line, the header repeated, 合计 / 城区支行 小计 / Total rows, a row
    holding the column sums without a label) are not customers: left out, each listed with its file row and reason,
    and an error after a blank line still names the right file row."""
    def messy(table):
        rows = [table.iloc[:5], table.iloc[:1].map(lambda _: ""), table.iloc[5:10]]
        header = pd.DataFrame([list(table.columns)], columns=table.columns)
        total = table.iloc[:1].copy()
        total.iloc[0, 0] = "城区支行 小计"
        grand = table.iloc[:1].copy()
        grand.iloc[0, 0] = "合计"
        return pd.concat(rows + [header, total, grand], ignore_index=True)
    from crmlib.io import read_measures
    params = load_params(make_case(n=10, edit_data=messy))
    read = read_measures(params.data, params.data_path, params.indicators)
    values, dropped = read.values, read.dropped
    assert read.rows.tolist() == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]  # file rows: line 7 is blank
    assert list(values.index) == [f"SX{k:02d}" for k in range(1, 11)]
    assert dropped.values.tolist() == [[7, "blank row"], [13, "repeated header row"], [14, "total or subtotal row"],
                                       [15, "total or subtotal row"]]

    def sum_row(table):  # the column sums, with an id and no label: found on the numbers
        total = {"客户编号": "SX99"}
        for indicator in params.indicators:
            column = indicator.source_column
            total[column] = repr(float(parse_numbers(table[column], indicator.unit).sum()))
        return pd.concat([table, pd.DataFrame([total])], ignore_index=True)

    def no_missing(p):
        p["synthetic"]["missing_share"] = 0.0
    params = load_params(make_case(n=10, edit_params=no_missing, edit_data=sum_row))
    read = read_measures(params.data, params.data_path, params.indicators)
    values, dropped = read.values, read.dropped
    assert "SX99" not in values.index and dropped.values.tolist() == [[12, "row equals the sum of the others"]]

    def text_after_blank(table):
        table = pd.concat([table.iloc[:3], table.iloc[:1].map(lambda _: ""), table.iloc[3:]], ignore_index=True)
        table.loc[5, "信用评级得分"] = "AA+"  # file row 7 (header, 3 customers, a blank line, then 2 more)
        return table
    with pytest.raises(InputError, match=r"column '信用评级得分', row 7: cell 'AA\+' is not a number"):
        read_indicators(load_params(make_case(n=10, edit_data=text_after_blank)))


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "INF"])
def test_infinity_is_not_an_amount(cell):
    with pytest.raises(InputError, match=rf"f\.csv, column 'c', row 3: cell '{re.escape(cell)}' is not a finite number"):
        parse_numbers(pd.Series(["1", cell]), "万元", file="f.csv", column="c")


def test_a_value_outside_the_declared_plausible_range(make_case):
    """A negative deposit balance is accepted unless the indicator declares its plausible range."""
    def negative(table):
        table.loc[3, "日均存款余额(万元)"] = "-120.5"
        return table
    assert read_indicators(load_params(make_case(n=20, edit_data=negative)))["deposit_balance"].min() == -120.5

    def bounded(p):
        p["indicators"][0]["valid_range"] = [0, None]
    with pytest.raises(InputError, match=r"column '日均存款余额\(万元\)', row 5: value -120.5 \(cell '-120.5'\) is "
                                         r"outside the plausible range \[0, inf\] declared for indicator "
                                         r"'deposit_balance' \(valid_range\)"):
        read_indicators(load_params(make_case(n=20, edit_data=negative, edit_params=bounded)))


def test_a_parquet_customer_file_reads_as_its_csv(make_case, tmp_path):
    """A customer file as Parquet (a file, or a directory of partitions): numeric columns keep their numbers, text
    columns are read as in a CSV; the same indicators come out. Its rows are numbered from 1 (the n-th record)."""
    path = make_case(n=30, edit_params=lambda p: p["data"].update(path="customers.parquet"))
    table = pd.read_csv(tmp_path / "customers.csv", dtype={"客户编号": str})
    table.to_parquet(tmp_path / "customers.parquet", index=False)
    csv_params = load_params(path).model_copy(update={"data": load_params(path).data.model_copy(
        update={"path": "customers.csv"})})
    from_csv = read_indicators(csv_params)
    pd.testing.assert_frame_equal(read_indicators(load_params(path)), from_csv)
    (tmp_path / "partitions").mkdir()
    table.iloc[:12].to_parquet(tmp_path / "partitions" / "part-0.parquet", index=False)
    table.iloc[12:].to_parquet(tmp_path / "partitions" / "part-1.parquet", index=False)
    partitioned = load_params(path).model_copy(update={"data": load_params(path).data.model_copy(
        update={"path": "partitions"})})
    pd.testing.assert_frame_equal(read_indicators(partitioned), from_csv)
    total = table.iloc[:1].assign(客户编号="合计")
    pd.concat([table, total], ignore_index=True).to_parquet(tmp_path / "customers.parquet", index=False)
    from crmlib.io import read_measures
    read = read_measures(load_params(path).data, load_params(path).data_path, load_params(path).indicators)
    assert read.dropped.values.tolist() == [[31, "total or subtotal row"]]
    assert table["持有产品数"].dtype.kind in "if" and table["贷款余额(万元)"].dtype == object  # numbers; text (1,811.70)
    table.drop(columns="持有产品数").to_parquet(tmp_path / "customers.parquet", index=False)
    with pytest.raises(InputError, match=r"column '持有产品数': column not found .*write the header as it is in the "
                                         r"file$"):  # no header row to set in a Parquet file
        read_indicators(load_params(path))
    table["持有产品数"] = table["持有产品数"].astype(float)
    table.loc[4, "持有产品数"] = float("inf")
    table.to_parquet(tmp_path / "customers.parquet", index=False)
    with pytest.raises(InputError, match=r"customers\.parquet, column '持有产品数', row 5: value inf is not a "
                                         "finite number"):
        read_indicators(load_params(path))


def test_the_quick_test_before_the_total_row_pattern_lets_every_total_cell_through():
    """Only cells ending in a letter of :data:`crmlib.io._TOTAL_ENDINGS` are searched for a total-row label: the last
    letters of the pattern's words, in every form a case-blind regular expression accepts (all of Unicode)."""
    import sys

    from crmlib import io
    letters = {c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch("(?i)[elmns]", c)}
    assert io._TOTAL_ENDINGS == frozenset("计均值") | letters and "ſ" in letters
    for cell in ["合计", "城区支行 小计", "总计", "平均", "均值", "Total", "TOTALS", "subtotal", "Grand Total", "SUM",
                 "Average", "mean", "A total", "totalſ"]:
        assert io._found(pd.Series([cell, "C001"]), io.TOTAL_CELL, lambda c: c[-1:] in io._TOTAL_ENDINGS).tolist() \
            == [True, False], cell


def test_rows_equal_to_the_sum_or_mean_of_the_others_are_found_as_by_their_definition():
    """:func:`crmlib.io._aggregate_rows` compares one measure at a time on the rows still matching; the result is
    that of comparing every row on every measure at once."""
    from crmlib.io import _aggregate_rows
    rng = np.random.default_rng(7)

    def by_definition(x):
        observed = ~np.isnan(x)
        others = np.nansum(x, axis=0) - np.where(observed, x, 0.0)
        means = others / np.maximum(observed.sum(axis=0) - observed, 1)

        def equal(b):
            return ((np.abs(x - b) <= 1e-9 * np.maximum(1.0, np.abs(x))) | ~observed).all(axis=1) & \
                (observed.sum(axis=1) >= 2)
        return np.where(equal(others), "row equals the sum of the others",
                        np.where(equal(means), "row equals the mean of the others", "")).tolist()

    def planted(row, measures, aggregate):
        x = rng.normal(100, 10, size=(400, 4))
        x[rng.random(x.shape) < 0.1] = np.nan
        x[row] = np.nan
        x[row, measures] = aggregate(np.delete(x, row, axis=0), axis=0)[measures]
        return x

    for x, found in [(planted(5, [0, 1, 2, 3], np.nansum), {5: "sum"}),
                     (planted(9, [1, 2, 3], np.nansum), {9: "sum"}),  # one measure missing
                     (planted(17, [0, 2, 3], np.nanmean), {17: "mean"}),
                     (planted(23, [3], np.nansum), {})]:  # one measure: not enough to call it a total
        result = _aggregate_rows(pd.DataFrame(x))
        assert result.tolist() == by_definition(x)
        assert {row: result[row].split()[3] for row in np.flatnonzero(result != "")} == found


def _typed_parquet_case(make_case, tmp_path):
    """A customer file as a warehouse exports it: the indicators typed numbers, the ids and a branch as text, with
    rows that are not customers: a blank row, a total row labelled in the id, a subtotal labelled in the branch
    after an ideographic space, and an unlabelled row equal to the sum of the others (or, in the second table
    returned, to their mean)."""
    path = make_case(n=40, edit_params=lambda p: p["data"].update(path="customers.parquet"))
    csv = load_params(path).model_copy(update={"data": load_params(path).data.model_copy(update={"path": "customers.csv"})})
    read = read_measures(csv.data, csv.data_path, csv.indicators)
    headers = {i.id: i.source_column for i in csv.indicators}
    table = read.values.rename(columns=headers).rename_axis(csv.data.id_column).reset_index()
    table.insert(1, "支行", "城区支行")
    numbers = table[list(headers.values())]
    extra = pd.DataFrame([{csv.data.id_column: None, "支行": None},
                          {csv.data.id_column: "合计", "支行": "", **numbers.sum()},
                          {csv.data.id_column: "S1", "支行": "城区支行\u3000小计", **numbers.iloc[:3].sum()},
                          {csv.data.id_column: "X1", "支行": "城区支行", **numbers.sum()},
                          {csv.data.id_column: "X2", "支行": "城区支行", **numbers.mean()}])
    with_sum = pd.concat([table.iloc[:20], extra.iloc[:2], table.iloc[20:], extra.iloc[2:4]], ignore_index=True)
    with_mean = pd.concat([table.iloc[:20], extra.iloc[:2], table.iloc[20:], extra.iloc[[2, 4]]], ignore_index=True)
    return load_params(path), with_sum, with_mean


def _both_readers(params, run):
    """The customer file read in memory (crmlib.io.read_measures) and by the engine (its Parquet reader)."""
    from crmlib.families.customer_file import parquet
    in_memory = read_measures(params.data, params.data_path, params.indicators)
    dropped = parquet.read_customer_file(run, params.data, params.data_path, params.indicators)
    on_engine = run.query("SELECT * FROM customer_file ORDER BY input_row").set_index("customer_id")
    return in_memory, dropped, on_engine


def _error(read) -> str:
    with pytest.raises(InputError) as error:
        read()
    return str(error.value)


def _assert_engine_reads_parquet_as_pandas(make_case, tmp_path, run, errors):
    """The engine's reader and the one in memory leave out the same rows and give the same ids, numbers and file
    rows, of a directory of partitions and, with ``errors``, of a file; with ``errors``, they stop with the same
    messages. On Spark, where each read is a dozen queries, the directory is read, and a file only up to its
    repeated id."""
    params, table, with_mean = _typed_parquet_case(make_case, tmp_path)
    if errors:
        table.to_parquet(tmp_path / "customers.parquet", index=False)
        in_memory, dropped, on_engine = _both_readers(params, run)
        assert dropped.values.tolist() == [[21, "blank row"], [22, "total or subtotal row"],
                                           [43, "total or subtotal row"], [44, "row equals the sum of the others"]]
        pd.testing.assert_frame_equal(dropped, in_memory.dropped)
        assert on_engine["input_row"].tolist() == in_memory.rows.tolist()
        pd.testing.assert_frame_equal(on_engine.drop(columns="input_row"), in_memory.values, check_names=False)
    (tmp_path / "partitions").mkdir()  # a directory of partitions: rows numbered across its files, in path order
    with_mean.iloc[:30].to_parquet(tmp_path / "partitions" / "part-0.parquet", index=False)
    with_mean.iloc[30:].to_parquet(tmp_path / "partitions" / "part-1.parquet", index=False)
    partitioned = params.model_copy(update={"data": params.data.model_copy(update={"path": Path("partitions")})})
    in_memory, dropped, on_engine = _both_readers(partitioned, run)
    assert dropped.values.tolist()[-1] == [44, "row equals the mean of the others"]
    pd.testing.assert_frame_equal(dropped, in_memory.dropped)
    assert on_engine["input_row"].tolist() == in_memory.rows.tolist()
    pd.testing.assert_frame_equal(on_engine.drop(columns="input_row"), in_memory.values, check_names=False)
    if errors:  # the stages run from the partitions, written by the engine, and record them as one input
        from crmlib import cleaning, pipeline, stages
        out = tmp_path / "out"
        for stage in ("01_clean", "02_indicators"):
            pipeline.run_stage(partitioned, out, stage)
        expected = cleaning.clean_indicators(in_memory.values, partitioned.cleaning).data
        pd.testing.assert_frame_equal(read_table(out, "clean_indicators", index="customer_id"), expected)
        assert stages.stale_stages(partitioned, out, ["01_clean"]) == []
        with_mean.iloc[30:35].to_parquet(tmp_path / "partitions" / "part-1.parquet", index=False)
        assert stages.stale_stages(partitioned, out, ["01_clean"]) == [
            ("01_clean", "input file partitions changed since it ran")]
    from crmlib.families.customer_file import parquet
    id_column, first = params.data.id_column, params.indicators[0]
    bounded = params.model_copy(update={"indicators": [first.model_copy(update={"valid_range": (0, None)}),
                                                       *params.indicators[1:]]})
    reading = [lambda: read_measures(bounded.data, bounded.data_path, bounded.indicators),
               lambda: parquet.read_customer_file(run, bounded.data, bounded.data_path, bounded.indicators)]
    edits = (lambda t: t.assign(**{id_column: t[id_column].where(t.index != 7, " ")}),
             lambda t: t.assign(**{id_column: t[id_column].where(t.index != 9, "6.22E+18")}),
             lambda t: t.assign(**{first.source_column: t[first.source_column].where(t.index != 11, -5.0)}),
             lambda t: t.assign(**{id_column: t[id_column].where(t.index != 30, t[id_column][3])}))
    for edit in edits if errors else edits[-1:]:
        edit(table).to_parquet(tmp_path / "customers.parquet", index=False)
        messages = [_error(read) for read in reading]
        assert messages[0] == messages[1] and ", row " in messages[0]
    if errors:
        table.drop(columns=first.source_column).to_parquet(tmp_path / "customers.parquet", index=False)
        messages = [_error(read) for read in reading]
        assert messages[0] == messages[1] and "column not found" in messages[0]


def test_the_engine_reads_a_typed_parquet_customer_file_as_pandas_does(make_case, tmp_path, run):
    """The engine's reader of a Parquet customer file (crmlib.families.customer_file.parquet) leaves out the same
    rows, gives the same ids, numbers and file rows, and stops with the same messages, as the reader in memory."""
    _assert_engine_reads_parquet_as_pandas(make_case, tmp_path, run, errors=True)


@pytest.mark.xdist_group("spark")
def test_spark_reads_a_typed_parquet_customer_file_as_pandas_does(make_case, tmp_path):
    _assert_engine_reads_parquet_as_pandas(make_case, tmp_path, engine_or_skip("spark"), errors=False)


@pytest.mark.xdist_group("spark")
def test_spark_makes_a_table_again_only_when_its_input_changed(tmp_path):
    """A table made again in the same Spark session, by a new engine, from the same SQL and the same file (a later
    stage of a run: stage 02 reads the panel that stage 01 read) is the table already made; once the file is
    rewritten, it is made anew, from the file as it is now."""
    path = tmp_path / "amounts.csv"
    totals, made = [], []
    for values in ([1, 2, 3], None, [1, 2, 3, 4]):
        if values is not None:
            pd.DataFrame({"x": values}).to_csv(path, index=False)
        run = engine_or_skip("spark")
        run.table("amounts", path)
        run.create("total", "SELECT SUM(x) AS s FROM amounts")
        totals.append(int(run.first("SELECT s FROM total")["s"]))
        made.append(engine._MADE["total"][2])
    assert totals == [6, 6, 10]
    assert made[1] is made[0] and made[2] is not made[0]


def test_the_engines_total_row_pattern_finds_the_cells_pythons_finds(run):
    """The total-row pattern as the engine's regular expressions read it (crmlib.families.customer_file.parquet)
    finds the same cells as :data:`crmlib.io.TOTAL_CELL`, a blank written out as the characters ``\\s`` stands for."""
    from crmlib import io
    from crmlib.families.customer_file.parquet import _total_pattern
    cells = ["合计", "城区支行 小计", "城区支行\u3000小计", "城区支行\t合计", "总计", "平均", "均值", "Total", "TOTALS",
             "subtotal", "Grand Total", "SUM", "Average", "mean", "A total", "C001", "totally", "合计数", "summary"]
    run.table("cells", pd.DataFrame({"cell": cells}))
    found = run.query(f"SELECT cell, regexp_matches(cell, '{_total_pattern()}') AS total FROM cells")
    expected = [io.TOTAL_CELL.search(cell) is not None for cell in found["cell"]]
    assert found["total"].tolist() == expected and sum(expected) == 15
