# %% tags=["parameters"]
# Parameters: papermill replaces these with the case being run.
case = "shaoxing"
params_path = "../params/shaoxing.yaml"
output_dir = "../data/processed/shaoxing"

# %%
from IPython.display import Markdown, display

from crmlib import io, load_params, pipeline, report

report.setup_display()
params = load_params(params_path)
tables_dir = io.processed_dir(case, output_dir)
display(Markdown(report.banner(params, "04 - Segmentation")))

# %% [markdown]
# **What this stage does.** It puts every customer in a segment (grades from the composite score, classes of
# the value matrix, tiers by assets) and ranks the questionnaire's problems by their score. Customer-level tables
# stay in `data/processed/<case>`; this report shows aggregates only.
#
# The sections below are those of the case's method families (`crmlib/families/<family>/sections/04_segmentation.py`).

# %%
tables = pipeline.run_stage(params, tables_dir, "04_segmentation")
