"""crmlib: the analytical module of bank CRM case studies.

Cleaning -> indicator construction -> factor analysis -> segmentation ->
strategy tables, driven by one YAML file per case. Start with
:func:`run_case` (``crmlib.run_case("shaoxing")``) or the ``crmlib`` command.
"""
from .errors import InputError

__all__ = ["InputError", "load_params", "run_case"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Imported on first use: the runner (papermill, nbconvert, the report), so that a stage notebook's kernel, which
    # needs only the statistics, does not import it; the params (pandas, pydantic, the families), so that
    # ``crmlib run`` can start its notebook kernel before importing them (crmlib.kernel).
    if name == "run_case":
        from .runner import run_case
        return run_case
    if name == "load_params":
        from .params import load_params
        return load_params
    raise AttributeError(f"module 'crmlib' has no attribute {name!r}")
