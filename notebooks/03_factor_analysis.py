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
display(Markdown(report.banner(params, "03 - Factor analysis and models")))

# %% [markdown]
# **What this stage does.** It fits the case's evaluation models: factor analysis and the composite score, the
# customer value model, the questionnaire's reliability and validity, the churn-driver models.
#
# The sections below are those of the case's method families (`crmlib/families/<family>/sections/03_factor_analysis.py`).

# %%
tables = pipeline.run_stage(params, tables_dir, "03_factor_analysis")
