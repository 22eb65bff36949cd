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
display(Markdown(report.banner(params, "02 - Indicator construction")))

# %% [markdown]
# **What this stage does.** It builds what the models of stage 03 take: the indicators described, turned to
# benefit direction and standardized; normalized indicators for a value model; each customer's tier, loss and
# life-cycle stage; the questionnaire's item descriptives.
#
# The sections below are those of the case's method families (`crmlib/families/<family>/sections/02_indicators.py`).

# %%
tables = pipeline.run_stage(params, tables_dir, "02_indicators")
