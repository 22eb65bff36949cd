"""Stages of the customer file: read and clean the indicators (01); describe and standardize them (02)."""
from __future__ import annotations

import pandas as pd

from ... import cleaning, engine, indicators, io, transactions


def clean(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: read the customer file (leaving out blank, header, total and average rows, listed in
    ``dropped_rows``), then winsorize, handle missing values and check on the run's engine
    (:func:`crmlib.cleaning.clean_indicators`); the cleaning log counts per indicator the cells converted from
    another unit, the missing, imputed and clipped values. A customer file given as a transactions table is built
    by the run's engine first (:mod:`crmlib.transactions`), with its summary and monthly activity. A published
    correlation or covariance matrix is read and checked instead (:func:`crmlib.io.read_matrix`)."""
    if params.data.matrix is not None:
        corr, log = io.read_matrix(params.data, params.data_path, params.indicators)
        return {"input_correlations": corr.reset_index(), "matrix_log": log}
    built, run = None, engine.current()
    if params.data.transactions is not None:
        built = transactions.read_measures(run, params.data, params.data_path, params.indicators)
        read = built.measures
    else:
        read = io.read_measures(params.data, params.data_path, params.indicators)
    declared = {i.id: f"{params.source_file} key 'indicators.{n}'" for n, i in enumerate(params.indicators)}
    result = cleaning.clean_indicators(read.values, params.cleaning, run=run, file=params.data_path, declared=declared,
                                       headers={i.id: i.source_column for i in params.indicators})
    log = result.log
    log.insert(1, "n_converted", read.converted.reindex(log["indicator"]).to_numpy())
    tables = {"clean_indicators": result.data, "cleaning_log": log, "dropped_rows": read.dropped}
    if built is not None:
        tables |= {"transaction_summary": built.summary, "transaction_months": built.months}
    return tables


def build_indicators(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 02, on the run's engine: descriptive statistics in own units (:func:`crmlib.indicators.descriptive_statistics`);
    z-scores with cost indicators turned to benefit direction (:func:`crmlib.indicators.standardize_on_engine`),
    in the customer file's order."""
    data = io.read_table(directory, "clean_indicators")
    run = engine.current()
    run.table("clean_indicators", data.assign(input_row=range(len(data))))
    columns = [i.id for i in params.indicators]
    meta = pd.DataFrame([i.model_dump(include={"id", "label_en", "label_zh", "unit", "direction", "dimension"})
                         for i in params.indicators]).rename(columns={"id": "indicator"})
    descriptives = meta.merge(indicators.descriptive_statistics(run, "clean_indicators", columns), on="indicator")
    z = indicators.standardize_on_engine(run, "clean_indicators", columns, {i.id: i.direction for i in params.indicators},
                                         ddof=params.cleaning.ddof, keep=("customer_id", "input_row"))
    z = run.query(f"SELECT * FROM ({z}) AS z ORDER BY input_row").drop(columns="input_row")
    return {"descriptives": descriptives, "standardized_indicators": z.set_index("customer_id")}
