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
display(Markdown(report.banner(params, "01 - Cleaning")))

# %% [markdown]
# **What this stage does.** It reads each data file of the case (the customer file, a questionnaire's
# responses, a monthly panel), checks every cell and cleans it by the rules in the params. The raw files are never
# changed; what the cleaning changed is counted in the logs below.
#
# The sections below are those of the case's method families (`crmlib/families/<family>/sections/01_clean.py`).

# %%
tables = pipeline.run_stage(params, tables_dir, "01_clean")
