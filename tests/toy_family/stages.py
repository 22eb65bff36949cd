"""The toy family's one stage: the indicators with the widest range of z-scores."""
import pandas as pd

from crmlib import io


def segment(params, directory) -> dict[str, pd.DataFrame]:
    z = io.read_table(directory, "standardized_indicators", index="customer_id")
    ranges = (z.max() - z.min()).rename("range").rename_axis("indicator").reset_index()
    widest = ranges.sort_values("range", ascending=False, kind="stable").head(params.toy.widest)
    return {"indicator_ranges": widest.reset_index(drop=True)}
