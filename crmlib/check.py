"""``crmlib check``: validate a case's params and data, and say what a run will do, without writing outputs.

Every stage runs in-process (:func:`crmlib.pipeline.run_stage`) into a temporary directory that is removed
afterwards, so a mistake anywhere (a cell, a code, a rule that cannot be met) stops the check as it would stop the
run. The summary is read from the stage tables: rows kept and left out with the reasons, the indicators and their
directions, the values the cleaning changed, and what each method family found (its ``display.check_summary``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from . import io, pipeline
from .labels import cell_value, text
from .params import CaseParams

__all__ = ["check_case", "changed_values", "change_counts", "change_line", "read_changes", "CHANGE_TABLES"]


def changed_values(log: pd.DataFrame) -> dict[str, int]:
    """Counts of the values the cleaning changed, from a cleaning log: converted to the declared unit, imputed
    (missing cells filled), clipped (winsorized). Under listwise deletion missing cells are not imputed: their
    customers are dropped (``n_customers_in - n_customers_out``); under pairwise deletion they are kept missing,
    and counted so when there are any."""
    imputed = int(log.loc[log["fill_value"].notna(), "n_missing"].sum())
    dropped = int((log["n_customers_in"] - log["n_customers_out"]).max())
    kept = 0 if dropped else int(log.loc[log["fill_value"].isna(), "n_missing"].sum())
    counts = {"converted": int(log.get("n_converted", pd.Series(dtype=int)).sum()), "imputed": imputed,
              "clipped": int((log["n_clipped_low"] + log["n_clipped_high"]).sum()),
              "customers dropped for a missing value": dropped}
    return counts | ({"missing values kept (pairwise deletion)": kept} if kept else {})


#: The stage-01 tables the counts of changed values are read from.
CHANGE_TABLES = ("cleaning_log", "dropped_rows", "survey_cleaning_log", "respondents", "survey_dropped_rows",
                 "matrix_log")


def change_counts(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Everything stage 01 changed or left out, counted from its tables (those of :data:`CHANGE_TABLES` present):
    cells converted to the declared unit, imputed, clipped; customers dropped for a missing value; rows of a data
    file that are not customers or respondents; answers out of scale set to missing; respondents left out."""
    counts = {}
    if "cleaning_log" in tables:
        counts |= changed_values(tables["cleaning_log"])
    if "dropped_rows" in tables:
        counts["rows of the customer file left out"] = len(tables["dropped_rows"])
    if "matrix_log" in tables:
        matrix = tables["matrix_log"].iloc[0]
        counts["matrix cells filled from across the diagonal"] = int(matrix["cells_from_mirror"])
        counts["covariances turned into correlations"] = int(matrix["indicators"]) ** 2 * (matrix["of"] == "covariance")
    if "survey_cleaning_log" in tables:
        counts["answers out of scale set to missing"] = int(tables["survey_cleaning_log"]["n_out_of_scale"].sum())
    if "respondents" in tables:
        respondents = tables["respondents"].iloc[0]
        counts["respondents left out"] = int(respondents["n_in"] - respondents["n_out"])
    if "survey_dropped_rows" in tables:
        counts["rows of the responses left out"] = len(tables["survey_dropped_rows"])
    return counts


def change_line(counts: dict[str, int], lang: str = "en") -> str:
    """:func:`change_counts` as one sentence in ``lang``."""
    colon, separator = ("：", "；") if lang == "zh" else (": ", "; ")
    return text("values_changed", lang) + separator.join(
        f"{cell_value(what, lang)}{colon}{count:,}" for what, count in counts.items()) + ("。" if lang == "zh" else ".")


def read_changes(directory) -> dict[str, int]:
    """:func:`change_counts` of the stage-01 tables in ``directory``."""
    return change_counts({name: io.read_table(directory, name) for name in CHANGE_TABLES
                          if io.table_file(directory, name).is_file()})


def _dropped(table: pd.DataFrame) -> str:
    if table.empty:
        return "none"
    return "; ".join(f"{reason}: row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows['row'].head(8)))}"
                     f"{' ...' if len(rows) > 8 else ''}" for reason, rows in table.groupby("reason", sort=False))


def check_case(params: CaseParams) -> list[str]:
    """Run the case's stages into a temporary directory and return the summary lines a run's user needs to see.

    Raises
    ------
    InputError
        The first mistake in the params or data, as ``crmlib run`` would report it.
    """
    lines = [f"case {params.case}: {params.title_en}"]
    for key, source in params.data_sources():
        if source.transactions is not None:
            lines.append(f"{key}: {params.resolve(source.path)} ({source.kind} data, a transactions table)")
            continue
        path = params.resolve(source.path)
        if io.is_parquet(path):
            lines.append(f"{key}: {path} ({source.kind} data, Parquet)")
            continue
        where = f", sheet {source.sheet!r}" if path.suffix.lower() != ".csv" else ""
        lines.append(f"{key}: {path} ({source.kind} data{where}, header row {source.header_row})")
    with tempfile.TemporaryDirectory(prefix="crmlib-check-") as scratch:
        directory = Path(scratch)
        for stage in params.stages:
            pipeline.run_stage(params, directory, stage)
        if io.table_file(directory, "transaction_summary").is_file():
            summary = io.read_table(directory, "transaction_summary").iloc[0]
            lines.append(f"transactions: {summary['rows']:,} rows, {summary['rows_used']:,} before {summary['as_of']} "
                         f"({summary['rows_after_end']:,} on or after it, left out), {summary['customers']:,} "
                         f"customers, {summary['first_day']} to {summary['last_day']}")
        for name, label in (("dropped_rows", "customer file"), ("survey_dropped_rows", "responses")):
            if io.table_file(directory, name).is_file():
                lines.append(f"rows left out of the {label}: {_dropped(io.read_table(directory, name))}")
        if io.table_file(directory, "matrix_log").is_file():
            matrix = io.read_table(directory, "matrix_log").iloc[0]
            lines.append(f"matrix: {matrix['of']} matrix of {matrix['indicators']} indicators from "
                         f"{matrix['n_obs']:,} observations, smallest eigenvalue {matrix['smallest_eigenvalue']:.4g}")
        if io.table_file(directory, "clean_indicators").is_file():
            data = io.read_table(directory, "clean_indicators")
            log = io.read_table(directory, "cleaning_log")
            lines.append(f"customers kept: {len(data)}")
            lines.append("indicators: " + ", ".join(
                f"{i.id} ({i.source_column}, {i.unit}, {cell_value(i.direction, 'en')})"
                for i in params.indicators))
            rules = params.cleaning
            lines.append(f"cleaning: missing values -> {rules.missing}; winsorize at "
                         f"{'off' if rules.winsorize is None else ' / '.join(f'{q:g}' for q in rules.winsorize)}")
        if params.indicators:
            lines.append(change_line(read_changes(directory)))
        for family in params.families:
            summary = family.display_function("check_summary")
            if summary is not None:
                lines += [f"{family.title_en}: {line}" for line in summary(params, directory)]
    if params.proposed:
        lines.append(f"proposed by crmlib new-case, not yet confirmed (remove a key from `proposed:` once you have "
                     f"checked it): {', '.join(params.proposed)}")
    lines.append(f"stages: {', '.join(params.stages)}; no outputs written (run: crmlib run {params.case})")
    return lines
