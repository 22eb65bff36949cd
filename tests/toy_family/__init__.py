"""A toy method family, kept outside crmlib: the range of each indicator, shown in stage 04.

It is what a new family needs and nothing more: this folder (params model, stage function, table declaration,
notebook section) and a registration, here through ``CRMLIB_FAMILIES=toy_family`` (tests/test_families.py).
"""
from crmlib.families import Family

from .params import Toy
from .tables import TABLES

FAMILY = Family(
    package=__name__,
    title_en="Indicator ranges",
    title_zh="指标极差",
    key="toy",
    model=Toy,
    tables=TABLES,
    reads={"04_segmentation": ("toy",)},
)
