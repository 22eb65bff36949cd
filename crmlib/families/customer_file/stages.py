"""Stages of the customer file: read and clean the indicators (01); describe and standardize them (02)."""
from __future__ import annotations

import pandas as pd

from ... import cleaning, engine, indicators, io, transactions
from . import parquet


def clean(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: read the customer file (leaving out blank, header, total and average rows, listed in
    ``dropped_rows``): a typed Parquet file by the run's engine (:mod:`.parquet`), any other in memory; then
    winsorize, handle missing values and check on the engine (:func:`crmlib.cleaning.clean_on_engine`), which writes
    the cleaned indicators; the cleaning log counts per indicator the cells converted from
    another unit, the missing, imputed and clipped values. A customer file given as a transactions table is built
    by the run's engine first (:mod:`crmlib.transactions`), with its summary and monthly activity. A published
    correlation or covariance matrix is read and checked instead (:func:`crmlib.io.read_matrix`)."""
    if params.data.matrix is not None:
        corr, log = io.read_matrix(params.data, params.data_path, params.indicators)
        return {"input_correlations": corr.reset_index(), "matrix_log": log}
    run, columns = engine.current(), [i.id for i in params.indicators]
    converted, read, built = pd.Series(0, index=columns), None, {}
    if params.data.transactions is not None:  # built by the engine, no row left out
        summary, months = transactions.build_customer_file(run, params.data, params.data_path, params.indicators)
        built = {"transaction_summary": summary, "transaction_months": months}
        dropped = pd.DataFrame({"row": pd.Series(dtype=int), "reason": pd.Series(dtype=str)})
    else:
        dropped = parquet.read_customer_file(run, params.data, params.data_path, params.indicators)
        read = io.read_measures(params.data, params.data_path, params.indicators) if dropped is None else None
    if read is not None:  # read in memory: handed to the engine
        run.table("customer_file", read.values, numbered=True)
        dropped, converted = read.dropped, read.converted
    declared = {i.id: f"{params.source_file} key 'indicators.{n}'" for n, i in enumerate(params.indicators)}
    log = cleaning.clean_on_engine(run, "customer_file", columns, params.cleaning, file=params.data_path,
                                   declared=declared, headers={i.id: i.source_column for i in params.indicators})
    log.insert(1, "n_converted", converted.reindex(log["indicator"]).to_numpy())
    clean = engine.EngineTable(run, f"SELECT customer_id, {', '.join(engine.quote(c) for c in columns)} "
                                    "FROM clean_indicators", order="input_row")
    return {"clean_indicators": clean, "cleaning_log": log, "dropped_rows": dropped} | built


def build_indicators(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 02, on the run's engine: descriptive statistics in own units
    (:func:`crmlib.indicators.descriptive_statistics`); z-scores with cost indicators turned to benefit direction
    (:func:`crmlib.indicators.standardize_on_engine`), in the customer file's order, written by the engine."""
    run = engine.current()
    run.table("clean_indicators", io.engine_source(directory, "clean_indicators"), numbered=True)
    columns = [i.id for i in params.indicators]
    sums = indicators.exact_sums(run, "clean_indicators", columns)  # once, for both ddofs
    meta = pd.DataFrame([i.model_dump(include={"id", "label_en", "label_zh", "unit", "direction", "dimension"})
                         for i in params.indicators]).rename(columns={"id": "indicator"})
    descriptives = meta.merge(indicators.descriptive_statistics(run, "clean_indicators", columns, sums),
                              on="indicator")
    directions = {i.id: i.direction for i in params.indicators}
    z = indicators.standardize_on_engine(run, "clean_indicators", columns, directions, ddof=params.cleaning.ddof,
                                         keep=("customer_id",), sums=sums)
    return {"descriptives": descriptives, "standardized_indicators": engine.EngineTable(run, z, order="input_row")}
