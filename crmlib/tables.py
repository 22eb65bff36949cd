"""The result tables, each declared once: name, family, stage, columns, captions, number formats, tolerance.

Every table a stage writes to ``data/processed/<case>/<name>.csv`` is declared by
its family (``crmlib/families/<family>/tables.py``) as a :class:`Table`. The stage
functions write only declared tables; the case report takes the tables to show,
their captions and their order from here; ``tables.xlsx`` the number formats;
the end-to-end tests the comparison tolerance; and the column reference in
``README.md`` is rendered from here (:func:`markdown`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from .compare import DEFAULT_TOLERANCE, Tolerance

__all__ = ["Table", "ITERATIVE", "registry", "table", "tolerances", "widen", "markdown"]

#: An optimizer stopping at its convergence tolerance lands elsewhere in the last digits it controls: minres
#: loadings near zero moved by 1.4e-8 between two x86-64 machines. psych itself agrees with crmlib to 2e-5 there.
ITERATIVE = Tolerance(rtol=1e-6, atol=1e-6)


@dataclass(frozen=True)
class Table:
    """A result table.

    ``columns`` maps each column (``<indicator>`` for one column per indicator, ``F1..Fk`` for one per factor)
    to its meaning and unit. ``shown`` says where the table appears: ``report`` (the report page, the workbook
    and ``tables/*.csv``), ``workbook`` (the workbook and CSV only: long or technical), ``figure`` (customer-level
    rows read by a figure, never shown as a table) or ``stage`` (read by later stages only). ``formats``
    overrides the Excel number format of a column (:func:`crmlib.workbook.number_format` chooses the others).
    ``wide`` = (rows, columns, values) shows a long table pivoted (e.g. indicators down, grades across).
    ``reversed_costs`` marks a table computed on the z-scores, in which cost indicators are reversed: the report
    labels them so. ``per_customer`` marks a customer-level table whose columns go into the workbook's
    per-customer sheet (:func:`crmlib.report.customer_sheet`).
    """

    name: str
    stage: str
    caption_en: str
    caption_zh: str
    columns: dict[str, str]
    shown: Literal["report", "workbook", "figure", "stage"] = "report"
    tolerance: Tolerance = DEFAULT_TOLERANCE
    formats: dict[str, str] = field(default_factory=dict)
    wide: tuple[str, str, str] | None = None
    reversed_costs: bool = False
    per_customer: bool = False
    family: str = ""

    def caption(self, lang: str) -> str:
        return self.caption_en if lang == "en" else self.caption_zh

    def undeclared(self, columns) -> list[str]:
        """The ``columns`` no key of :attr:`columns` describes (a key may list several columns, ``a, b``; ``<x>``
        stands for any name, ``F1..Fk`` for F1, F2, ...)."""
        patterns = []
        for key in self.columns:
            for part in key.split(", "):
                numbered = re.sub(r"([A-Za-z_]*)1\.\.\1k", r"\1<n>", part)  # F1..Fk -> F<n>
                pattern = re.escape(numbered).replace("<n>", r"\d+")
                patterns.append(re.compile("^" + re.sub(r"<[^>]+>", ".+", pattern) + "$"))
        return [c for c in columns if not any(p.match(str(c)) for p in patterns)]


def robustness_tables(prefix: str, segment: str, caption: tuple[str, str], members: str) -> tuple[Table, ...]:
    """The workbook and stability tables of a family's robustness (:mod:`crmlib.robustness`), whose grades or
    classes are its ``segment``: ``<segment>_transitions``, ``<prefix>robustness_customers``,
    ``<segment>_stability`` (per customer; ``members``: in which samples a customer counts) and
    ``<segment>_stability_summary``. ``caption``: the segments' plural in English and Chinese (grades, 等级)."""
    plural, plural_zh = caption
    share = f"same_{segment}_share"
    return (
        Table(f"{segment}_transitions", "04_segmentation", f"{segment.capitalize()} transitions under each "
              "alternative convention", f"各替代方法下的{plural_zh}转移",
              {"convention": "convention varied", "variant": "alternative value",
               segment: f"{segment} under the case's settings", f"to_{segment}": f"{segment} under the alternative",
               "customers": "customers"}, shown="workbook"),
        Table(f"{prefix}robustness_customers", "04_segmentation", f"Customers in the robustness analysis of the "
              f"{plural}", f"{plural_zh}稳健性分析的客户数",
              {"customers": "customers in the file", "analysed": "customers analysed (all, or a hash sample of "
               "robustness.max_customers)"}, shown="workbook"),
        Table(f"{segment}_stability", "04_segmentation", f"Bootstrap stability of each customer's {segment}",
              f"各客户{plural_zh}的自助法稳定性",
              {"customer_id": "customer id", segment: f"{segment} under the case's settings",
               "bootstrap_samples": f"bootstrap samples {members}", share: f"share of them giving the same {segment}"},
              shown="figure", per_customer=True, tolerance=ITERATIVE),
        Table(f"{segment}_stability_summary", "04_segmentation", f"Bootstrap stability of the {plural}",
              f"{plural_zh}的自助法稳定性",
              {segment: f"{segment} id, then all", "customers": "customers",
               f"mean_{share}": f"mean share of samples in which they keep their {segment}",
               "share_stable": "share of them keeping it in at least stable_share of the samples",
               "stable_share": "the share that counts as stable (robustness.stable_share)",
               "replicates": "bootstrap samples used", "failed": "samples whose fit failed (left out)"},
              tolerance=ITERATIVE),
    )


@functools.cache
def registry() -> dict[str, Table]:
    """Every declared table by name, in family and declaration order.

    Raises
    ------
    ValueError
        When two families declare a table of the same name.
    """
    from .families import FAMILIES
    tables: dict[str, Table] = {}
    for family in FAMILIES:
        for declared in family.tables:
            if declared.name in tables:
                raise ValueError(f"table '{declared.name}' is declared by both {tables[declared.name].family} "
                                 f"and {family.folder}")
            tables[declared.name] = Table(**{**declared.__dict__, "family": family.folder})
    return tables


def table(name: str) -> Table:
    """The declaration of table ``name``."""
    return registry()[name]


def tolerances() -> dict[str, Tolerance]:
    """The comparison tolerance of every declared table (:func:`crmlib.compare.compare_directories`)."""
    return {name: t.tolerance for name, t in registry().items()}


def widen(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Table ``name`` as notebooks and reports show it: pivoted when it is declared ``wide`` (rows and columns in
    their order of appearance), else as it is."""
    wide = table(name).wide
    if wide is None:
        return frame
    rows, columns, values = wide
    pivoted = frame.pivot(index=rows, columns=columns, values=values)
    pivoted = pivoted.loc[pd.unique(frame[rows]), pd.unique(frame[columns])]
    return pivoted.rename_axis(columns=None).reset_index()


def markdown() -> str:
    """The column reference of every table, as the README shows it: per family and stage, each table with its
    caption, where it is shown and its columns."""
    from .families import FAMILIES
    lines = []
    for family in FAMILIES:
        lines += ["", f"**{family.title_en}** (`crmlib/families/{family.folder}`)", ""]
        for declared in family.tables:
            columns = "; ".join(f"`{column}` {meaning}" for column, meaning in declared.columns.items())
            lines.append(f"- `{declared.name}` ({declared.stage[:2]}, {declared.shown}): {declared.caption_en}. "
                         f"{columns}.")
    return "\n".join(lines[1:]) + "\n"
