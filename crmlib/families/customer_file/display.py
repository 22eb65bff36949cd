"""What the customer-file sections and report state beyond plain tables: the missing-value policy."""
from __future__ import annotations

from ... import report
from ...labels import Language


def missing_text(tables: dict, params, lang: Language = "en") -> str:
    """The missing-value policy and the number of customers the statistics are computed on (the cleaning log's
    customers kept)."""
    return report.missing_values_text(params, int(tables["cleaning_log"]["n_customers_out"].iloc[0]), lang)


def report_notes(tables: dict, params, lang: Language = "en") -> dict[str, list[str]]:
    """The missing-value policy, above the cleaning tables (stage 01), for a file of customers."""
    return {"01_clean": [missing_text(tables, params, lang)]} if "cleaning_log" in tables else {}
