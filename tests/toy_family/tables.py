"""Tables of the toy family."""
from crmlib.tables import Table

TABLES = (
    Table("indicator_ranges", "04_segmentation", "Indicators with the widest range (z-scores)",
          "极差最大的指标（标准化值）",
          {"indicator": "indicator id", "range": "max - min of its z-scores"}),
)
