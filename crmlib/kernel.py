"""The notebook kernel a run executes its stage notebooks in, started before the command's own imports.

This module imports only jupyter_client, so that ``crmlib run <case>`` can start the kernel first
(:meth:`Kernel.start`): the kernel imports the kit (:data:`WARM_UP`) on one core while the command imports the
runner (papermill, nbconvert, the report) on another, and the first notebook finds the modules loaded.
"""
from __future__ import annotations

import os
from queue import Empty

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

__all__ = ["BLAS_THREADS", "WARM_UP", "KERNEL_OPTIONS", "Kernel"]

#: The BLAS libraries' thread settings, which a kernel gets as 1: one BLAS thread adds in one order, so a case's
#: tables have the same bytes whether it runs alone (``crmlib run <case>``) or beside others (``--all``), on any
#: number of cores (with more threads, a matrix product's sums were split differently: the last digits of the CFA's
#: and the concentration intervals' tables moved). OpenMP's threads (scikit-learn's gradient boosting) are left as
#: they are.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: What a started kernel imports before its first notebook: the modules every stage notebook imports, and each
#: registered family's stage and display modules (the factor analysis, SciPy), which the notebooks would import
#: one by one. Inside a function, so that it defines no name in the kernel's namespace.
WARM_UP = """\
def _warm_up():
    import importlib
    import importlib.util

    import IPython.display
    import crmlib.families, crmlib.figures, crmlib.io, crmlib.pipeline, crmlib.report
    for family in crmlib.families.FAMILIES:
        for module in (f"{family.package}.stages", f"{family.package}.display"):
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
_warm_up()
del _warm_up
"""


#: The kernel's command-line options: no IPython history. A notebook's execution count restarts at each notebook
#: (:func:`crmlib.runner._preparation`), and IPython's history file (one SQLite file per user, shared by every
#: kernel) then reported "Session/line number was not unique in database" into a notebook's output.
KERNEL_OPTIONS = ("--HistoryManager.enabled=False",)


class Kernel:
    """A Python kernel that runs stage notebooks one after another, so the imports are paid once and not once per
    notebook (``with Kernel() as kernel: run_case(..., kernel=kernel)``). Each notebook starts with a cell
    (:func:`crmlib.runner._preparation`, removed from the saved notebook) that clears the namespace (``%reset -f``;
    imported modules stay loaded), sets the working and output directories and restarts the execution count, so a
    notebook sees nothing an earlier one defined and its cells are numbered as in a fresh kernel. A run from a
    later stage (``crmlib run <case> --stage 03``) starts its first notebook in a new kernel. ``make test``
    re-executes the report notebooks the same way: one kernel per test worker, cleared before each notebook.

    The kernel process starts at :meth:`start` (or at its first notebook), with the environment as it is then,
    BLAS on one thread (:data:`BLAS_THREADS`) and the options :data:`KERNEL_OPTIONS`."""

    def __init__(self):
        os.environ.update(dict.fromkeys(BLAS_THREADS, "1"))
        self.manager = AsyncKernelManager(kernel_name="python3")
        self._warming = None

    def start(self) -> "Kernel":
        """Start the kernel process and ask it to import the kit (:data:`WARM_UP`), without waiting for either:
        the caller goes on meanwhile. :meth:`ready` waits."""
        run_sync(self.manager.start_kernel)(extra_arguments=list(KERNEL_OPTIONS))
        self._warming = self.manager.client()
        self._warming.start_channels(iopub=False, stdin=False, hb=False, control=False)  # the reply only
        self._warming.execute(WARM_UP, silent=True, store_history=False)
        return self

    def ready(self, timeout: float = 120) -> AsyncKernelManager:
        """The kernel's manager, for papermill, started (:meth:`start`) if it was not, once the imports it asked
        for have finished (at most ``timeout`` seconds). Whether they succeeded does not matter here: a notebook
        that needs a module that cannot be imported fails at its own import cell, which names the error."""
        if not self.manager.has_kernel:
            self.start()
        if self._warming is not None:
            try:
                run_sync(self._warming.get_shell_msg)(timeout=timeout)
            except Empty:
                pass  # the kernel died or hangs: the notebook's run reports it
            self._warming.stop_channels()
            self._warming = None
        return self.manager

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the kernel process (if it is running)."""
        if self._warming is not None:
            self._warming.stop_channels()
            self._warming = None
        if self.manager.has_kernel:
            run_sync(self.manager.shutdown_kernel)(now=True)
