"""What a benchmark's process used: CPU seconds and peak resident memory, with its Spark JVM's where there is one.

Imported by the scripts the benchmarks run in fresh processes (their last argument is this folder).
"""
from __future__ import annotations

import os
import resource
from pathlib import Path


def _peak_gib(pid="self") -> float:
    """VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec, so a child of the generating process would
    report the generator's peak."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(status["VmHWM"].split()[0]) / 2**20


def cpu_and_peak(spark=None) -> tuple[float, float]:
    """CPU seconds (user and system) and peak resident GiB of this process, plus those of the JVM of ``spark``
    (a :class:`crmlib.engine.SparkEngine`), when given."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, peak = usage.ru_utime + usage.ru_stime, _peak_gib()
    if spark is not None:
        jvm = spark.spark.sparkContext._gateway.proc.pid
        fields = Path(f"/proc/{jvm}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        peak += _peak_gib(jvm)
    return cpu, peak
