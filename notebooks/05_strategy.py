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
display(Markdown(report.banner(params, "05 - Strategy")))

# %% [markdown]
# **What this stage does.** It joins each segment's problem and management strategies, as given in the case's
# params, to the segment sizes found in the data, in Chinese and English.
#
# The sections below are those of the case's method families (`crmlib/families/<family>/sections/05_strategy.py`).

# %%
tables = pipeline.run_stage(params, tables_dir, "05_strategy")

# %% [markdown]
# Where the problems and strategies come from:

# %%
display(Markdown(report.strategy_source(params)))
