"""crmlib: the analytical module of bank CRM case studies.

Cleaning -> indicator construction -> factor analysis -> segmentation ->
strategy tables, driven by one YAML file per case. Start with
:func:`run_case` (``crmlib.run_case("shaoxing")``) or the ``crmlib`` command.
"""
from .errors import InputError
from .params import load_params

__all__ = ["InputError", "load_params", "run_case"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The runner (papermill, nbconvert, the report) is imported on first use, so that a stage notebook's
    # kernel, which needs only the statistics, starts quickly.
    if name == "run_case":
        from .runner import run_case
        return run_case
    raise AttributeError(f"module 'crmlib' has no attribute {name!r}")
