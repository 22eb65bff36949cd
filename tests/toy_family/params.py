"""Params of the toy family (``toy:`` in a case's YAML)."""
from pydantic import Field

from crmlib.schema import Strict


class Toy(Strict):
    """How many indicators with the widest range to list."""

    widest: int = Field(default=3, ge=1)

    def check(self, case) -> None:
        if self.widest > len(case.indicators):
            raise ValueError(f"toy.widest: the case has only {len(case.indicators)} indicators")

    def named(self) -> list:
        return []

    def sources(self, lang: str = "en") -> list[str]:
        return []
