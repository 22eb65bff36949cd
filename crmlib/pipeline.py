"""The five stages, as functions of (params, stage-table directory).

A stage runs the stage function of each family the case uses (:mod:`crmlib.families`),
in registry order: the customer file first, then factor grading, value matrix, customer base
and survey. Each function reads only the params and the tables earlier stages (or
earlier families in this stage) wrote to the directory, and returns its tables; the stage
checks that each is declared by that family for that stage (:mod:`crmlib.tables`), writes it
atomically (:func:`crmlib.io.write_table`), and finally records what the stage's tables
were made from in ``<directory>/stages.json`` (:mod:`crmlib.stages`), so that a partial
rerun or a report never uses stale tables. The stage notebooks in ``notebooks/`` call
:func:`run_stage` and then show each family's tables.

The tables and their columns are listed in ``README.md`` (rendered from :mod:`crmlib.tables`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import engine, io, stages
from .params import STAGES, CaseParams
from .tables import registry

__all__ = ["STAGES", "run_stage", "clean", "build_indicators", "factor_analysis", "segment", "strategies"]


def run_stage(params: CaseParams, directory, stage: str) -> dict[str, pd.DataFrame]:
    """Run ``stage`` for every family of the case that takes part in it; returns the tables written, each with its
    index (``customer_id``) as a column, as a later stage reads it back. A per-customer table the engine wrote
    itself as Parquet (:class:`crmlib.engine.EngineTable`, above :data:`crmlib.io.PARQUET_ROWS` rows) is returned
    as that table, not loaded.

    Raises
    ------
    ValueError
        When a family returns a table it does not declare for this stage (a programming error).
    """
    declared = registry()
    written: dict[str, pd.DataFrame] = {}
    for family in params.families:
        if not family.takes_part(params, stage):
            continue
        for name, table in family.stage_function(stage)(params, directory).items():
            entry = declared.get(name)
            if entry is None or entry.family != family.folder or entry.stage != stage:
                raise ValueError(f"{family.folder} returned table '{name}' in stage {stage}, which it does not "
                                 f"declare there (crmlib/families/{family.folder}/tables.py)")
            if isinstance(table, engine.EngineTable):
                frame = table.write(directory, name)
                if frame is None:  # Parquet, written by the engine
                    written[name] = table
                    continue
                table = frame
            else:
                io.write_stage_table(table, directory, name)
            written[name] = table.reset_index() if table.index.name is not None else table
    stages.record_stage(params, directory, stage, written)
    return written


def clean(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 01 (:func:`run_stage`): read and clean every data file of the case."""
    return run_stage(params, directory, "01_clean")


def build_indicators(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 02 (:func:`run_stage`): indicators, items and per-customer columns."""
    return run_stage(params, directory, "02_indicators")


def factor_analysis(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 03 (:func:`run_stage`): factor analysis, value model, reliability and validity, churn models."""
    return run_stage(params, directory, "03_factor_analysis")


def segment(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 04 (:func:`run_stage`): grades, value classes, problem ranking, tiers."""
    return run_stage(params, directory, "04_segmentation")


def strategies(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 05 (:func:`run_stage`): problems and strategies."""
    return run_stage(params, directory, "05_strategy")
