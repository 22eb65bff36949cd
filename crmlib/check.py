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
from .params import CaseParams

__all__ = ["check_case", "changed_values"]


def changed_values(log: pd.DataFrame) -> dict[str, int]:
    """Counts of the values the cleaning changed, from a cleaning log: converted to the declared unit, imputed
    (missing cells filled), clipped (winsorized). Under listwise deletion missing cells are not imputed: their
    customers are dropped (``n_customers_in - n_customers_out``)."""
    imputed = int(log.loc[log["fill_value"].notna(), "n_missing"].sum())
    return {"converted": int(log.get("n_converted", pd.Series(dtype=int)).sum()), "imputed": imputed,
            "clipped": int((log["n_clipped_low"] + log["n_clipped_high"]).sum()),
            "customers dropped for a missing value": int((log["n_customers_in"] - log["n_customers_out"]).max())}


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
        where = f", sheet {source.sheet!r}" if params.resolve(source.path).suffix.lower() != ".csv" else ""
        lines.append(f"{key}: {params.resolve(source.path)} ({source.kind} data{where}, header row "
                     f"{source.header_row})")
    with tempfile.TemporaryDirectory(prefix="crmlib-check-") as scratch:
        directory = Path(scratch)
        for stage in params.stages:
            pipeline.run_stage(params, directory, stage)
        for name, label in (("dropped_rows", "customer file"), ("survey_dropped_rows", "responses")):
            if (directory / f"{name}.csv").is_file():
                lines.append(f"rows left out of the {label}: {_dropped(io.read_table(directory, name))}")
        if params.indicators:
            data = io.read_table(directory, "clean_indicators")
            log = io.read_table(directory, "cleaning_log")
            lines.append(f"customers kept: {len(data)}")
            lines.append("indicators: " + ", ".join(
                f"{i.id} ({i.source_column}, {i.unit}, {'cost: reversed in scores' if i.direction == 'cost' else 'benefit'})"
                for i in params.indicators))
            rules = params.cleaning
            lines.append(f"cleaning: missing values -> {rules.missing}; winsorize at "
                         f"{'off' if rules.winsorize is None else ' / '.join(f'{q:g}' for q in rules.winsorize)}")
            lines.append("values changed: " + ", ".join(f"{count} {what}" for what, count in
                                                        changed_values(log).items()))
        for family in params.families:
            summary = family.display_function("check_summary")
            if summary is not None:
                lines += [f"{family.title_en}: {line}" for line in summary(params, directory)]
    if params.proposed:
        lines.append(f"proposed by crmlib new-case, not yet confirmed (remove a key from `proposed:` once you have "
                     f"checked it): {', '.join(params.proposed)}")
    lines.append(f"stages: {', '.join(params.stages)}; no outputs written (run: crmlib run {params.case})")
    return lines
