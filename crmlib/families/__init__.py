"""The method families, and the customer file they share.

A family is one folder, ``crmlib/families/<family>/``, holding everything about one
method of the case studies:

- ``params.py``: the model of its params section (``<family>:`` in a case's YAML),
  with ``check(case)`` (its references to the rest of the case), ``named()`` (the ids it
  labels) and ``sources(lang)`` (where its problems and strategies come from);
- ``stages.py``: one function per stage it takes part in, named as in
  :data:`STAGE_FUNCTIONS`, each ``(params, directory) -> {table name: DataFrame}``;
- ``tables.py``: the declaration of every table it writes (:class:`crmlib.tables.Table`);
- ``display.py``: what its notebook sections and the case report show beyond plain tables (figures);
- ``sections/<stage>.py``: its part of each stage notebook, as a jupytext percent script;
- ``__init__.py``: its :class:`Family` record.

A family calls the shared topic modules (:mod:`crmlib.cleaning`, :mod:`crmlib.factors`,
:mod:`crmlib.weights`, :mod:`crmlib.reliability`, :mod:`crmlib.concentration`,
:mod:`crmlib.survival`, ...) and never imports another family; it reads other parts'
results only as stage tables. Adding a family is one new folder, its tests and one line in
:func:`_registered`; a family kept outside crmlib registers through :data:`FAMILIES_ENV`.

The customer file (``customer_file``) is the part every family but the survey builds on:
the case's top-level ``data``, ``indicators`` and ``cleaning``, cleaned in stage 01 and
described and standardized in stage 02. It is laid out like a family and runs whenever
the case has indicators.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..schema import STAGES
from ..tables import Table

if TYPE_CHECKING:
    from ..params import CaseParams

__all__ = ["STAGE_FUNCTIONS", "FAMILIES_ENV", "Figure", "Family", "FAMILIES"]

#: The name of each stage's function in a family's ``stages.py``.
STAGE_FUNCTIONS = dict(zip(STAGES, ("clean", "build_indicators", "factor_analysis", "segment", "strategies")))


@dataclass(frozen=True)
class Figure:
    """A figure of the case report: file name, stage section, captions, and the function of the family's
    ``display.py`` that draws it from the stage tables (``draw(tables, params, lang) -> Figure``)."""

    name: str
    stage: str
    caption_en: str
    caption_zh: str
    draw: str


@dataclass(frozen=True)
class Family:
    """A method family (or the shared customer file), as :data:`FAMILIES` registers it.

    ``package`` is the family's Python package (its folder); ``key`` the params key of its section (``None`` for
    the customer file, whose params are the case's top-level keys). ``reads`` names, per stage, the params
    sections its stage function reads (dotted, from the top of the case's params): a stage's record
    (:mod:`crmlib.stages`) hashes them; it names every stage the family has a function for, and no other.
    ``stage_conditions`` say when the family takes part in a stage it has a function for. ``conditions`` decide
    the cells of its notebook sections that carry ``when="<name>"``. ``moved`` maps keys that moved into the
    family's section to their new place, for an error that says where they went. ``engine_path`` says where its
    computations run (:mod:`crmlib.engine`): ``"engine"`` (SQL run by the run's engine, DuckDB or Spark),
    ``"memory"`` (in this process, on any engine: inputs a person prepares, such as a questionnaire) or
    ``"none"`` (in memory, and a run with ``--engine spark`` is refused).
    ``takes_matrix`` says whether it can run on a published correlation matrix instead of customers
    (``data.matrix``).
    """

    package: str
    title_en: str
    title_zh: str
    key: str | None
    model: type | None
    tables: tuple[Table, ...]
    reads: dict[str, tuple[str, ...]]
    conditions: dict[str, Callable[["CaseParams"], bool]] = field(default_factory=dict)
    figures: tuple[Figure, ...] = ()
    moved: dict[str, str] = field(default_factory=dict)
    stage_conditions: dict[str, Callable[["CaseParams"], bool]] = field(default_factory=dict)
    engine_path: str = "none"
    takes_matrix: bool = False

    @property
    def folder(self) -> str:
        """The family's folder name (the last part of its package)."""
        return self.package.rsplit(".", 1)[-1]

    @property
    def directory(self) -> Path:
        return Path(importlib.import_module(self.package).__file__).resolve().parent

    def applies(self, params: "CaseParams") -> bool:
        """Whether the case uses this family: it has the family's params section (the customer file: indicators)."""
        return bool(params.indicators) if self.key is None else getattr(params, self.key) is not None

    def takes_part(self, params: "CaseParams", stage: str) -> bool:
        """Whether the family does something in ``stage`` for this case: it has a function for the stage (the stages
        of ``reads``, which name exactly those: the stage functions' module is not imported to find out), and the
        stage's condition in ``stage_conditions`` (if any) holds (grades are optional, for instance)."""
        condition = self.stage_conditions.get(stage)
        return stage in self.reads and (condition is None or condition(params))

    def stage_function(self, stage: str) -> Callable | None:
        """The family's function for ``stage``, or ``None`` when it has none."""
        module = importlib.import_module(f"{self.package}.stages")
        return getattr(module, STAGE_FUNCTIONS[stage], None)

    def section(self, stage: str) -> Path | None:
        """The family's part of the ``stage`` notebook (a jupytext percent script), or ``None``."""
        path = self.directory / "sections" / f"{stage}.py"
        return path if path.is_file() else None

    def display(self):
        """The family's ``display`` module (figures and special views)."""
        return importlib.import_module(f"{self.package}.display")

    def display_function(self, name: str) -> Callable | None:
        """A function of the family's ``display`` module that a family may leave out (``report_notes``,
        ``check_summary``); ``None`` when the family has no such function or no display module."""
        if importlib.util.find_spec(f"{self.package}.display") is None:
            return None
        return getattr(self.display(), name, None)


#: Environment variable naming more family packages (comma-separated, importable, each with a ``FAMILY``): a
#: family kept outside crmlib, such as a student's own method, registers without editing crmlib.
FAMILIES_ENV = "CRMLIB_FAMILIES"


def _registered() -> list[Family]:
    from . import customer_base, customer_file, factor_grading, survey, value_matrix
    extra = [importlib.import_module(name.strip()).FAMILY
             for name in os.environ.get(FAMILIES_ENV, "").split(",") if name.strip()]
    return [customer_file.FAMILY, factor_grading.FAMILY, value_matrix.FAMILY, customer_base.FAMILY,
            survey.FAMILY] + extra


#: Every family, in the order their sections appear in a stage notebook (the customer file first; families named
#: in ``$CRMLIB_FAMILIES`` last).
FAMILIES: list[Family] = _registered()

