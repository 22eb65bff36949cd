"""crmlib: the analytical module of bank CRM case studies.

Cleaning -> indicator construction -> factor analysis -> segmentation ->
strategy tables, driven by one YAML file per case. Start with
:func:`run_case` (``crmlib.run_case("shaoxing")``) or the ``crmlib`` command.
"""
from .errors import InputError
from .params import load_params
from .runner import run_case

__all__ = ["InputError", "load_params", "run_case"]
__version__ = "0.1.0"
