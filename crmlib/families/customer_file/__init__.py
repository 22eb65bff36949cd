"""The customer file: the case's indicators, read and cleaned (stage 01), described and standardized (stage 02)."""
from .. import Family
from .tables import TABLES

FAMILY = Family(
    package=__name__,
    title_en="Customer file",
    title_zh="客户数据",
    key=None,
    model=None,
    tables=TABLES,
    engine_path="engine",
    takes_matrix=True,
    conditions={"transactions": lambda params: params.data.transactions is not None,
                "matrix": lambda params: params.data.matrix is not None,
                "customers": lambda params: params.data.matrix is None},
    stage_conditions={"02_indicators": lambda params: params.data.matrix is None},
    reads={"01_clean": ("data", "indicators", "cleaning"),
           "02_indicators": ("data", "indicators", "cleaning")},
)
