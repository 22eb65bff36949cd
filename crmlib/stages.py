"""Stage records: what each stage's tables were made from, so that no partial rerun or report uses stale tables.

After a stage has written its tables, :func:`record_stage` adds an entry to
``<directory>/stages.json``:

- ``params``: SHA-256 of each params section the stage reads (declared by its families, :func:`stage_sections`),
  of its values as canonical JSON, so a change to another section (say the
  grading) leaves the earlier stages current;
- ``inputs``: SHA-256 of every input file the params name (customer file,
  panel, interview codes), paths as written in the params;
- ``upstream``: the digest of each earlier stage's tables as this stage read them;
- ``tables``: SHA-256 of each table the stage wrote, and their ``digest``.

A stage is **stale** (:func:`stale_stages`) when it has no record, when a params
section it reads or an input file changed, when an earlier stage was rerun after
it (an upstream digest differs), or when one of its tables was changed or
removed since. The record holds no time, duration or absolute path, so two runs
of the same inputs write the same bytes. Changes to crmlib's own code are not
tracked: after an upgrade, rerun the case.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import InputError
from .io import table_file, write_bytes
from .params import CaseParams
from .provenance import input_files, sha256

__all__ = ["RECORDS", "stage_sections", "record_stage", "read_records", "stale_stages", "check_current"]

#: File of the stage records inside a case's stage-table directory.
RECORDS = "stages.json"

def stage_sections(params: CaseParams, stage: str) -> tuple[str, ...]:
    """The params sections ``stage`` reads for this case: those each of its families declares (``Family.reads``),
    in order, each once."""
    sections = [name for family in params.families for name in family.reads.get(stage, ())]
    return tuple(dict.fromkeys(sections))


def _section(params: CaseParams, dotted: str):
    node = params.model_dump(mode="json")
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _params_digests(params: CaseParams, stage: str) -> dict[str, str]:
    return {name: hashlib.sha256(json.dumps(_section(params, name), sort_keys=True, ensure_ascii=False)
                                 .encode("utf-8")).hexdigest() for name in stage_sections(params, stage)}


def _digest(tables: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode("utf-8")).hexdigest()


def read_records(directory) -> dict[str, dict]:
    """The stage records of a directory (empty when none was written)."""
    path = Path(directory) / RECORDS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record_stage(params: CaseParams, directory, stage: str, tables) -> dict:
    """Record that ``stage`` wrote ``tables`` (their names) into ``directory`` from the current params, inputs
    and earlier stages' tables; returns the record."""
    directory = Path(directory)
    records = read_records(directory)
    earlier = [s for s in params.stages if s < stage]
    written = {name: sha256(table_file(directory, name)) for name in sorted(tables)}
    inputs = input_files(params)
    records[stage] = {
        "params": _params_digests(params, stage),
        "inputs": dict(zip(inputs["file"], inputs["sha256"])),
        "upstream": {s: records[s]["digest"] for s in earlier if s in records},
        "tables": written,
        "digest": _digest(written),
    }
    text = json.dumps(dict(sorted(records.items())), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    write_bytes(text.encode("utf-8"), directory / RECORDS)
    return records[stage]


def _why_stale(params: CaseParams, directory: Path, stage: str, records: dict, inputs: dict[str, str]) -> str | None:
    record = records.get(stage)
    if record is None:
        return "it has not run"
    changed = [name for name, digest in _params_digests(params, stage).items() if record["params"].get(name) != digest]
    if changed:
        return f"params {', '.join(changed)} changed since it ran"
    files = [file for file, digest in inputs.items() if record["inputs"].get(file) != digest]
    files += [file for file in record["inputs"] if file not in inputs]
    if files:
        return f"input file {files[0]} changed since it ran"
    for earlier in [s for s in params.stages if s < stage]:
        if earlier not in records or record["upstream"].get(earlier) != records[earlier]["digest"]:
            return f"stage {earlier} was rerun after it"
    for name, digest in record["tables"].items():
        path = table_file(directory, name)
        if not path.is_file() or sha256(path) != digest:
            return f"its table {path.name} was changed or removed since it was written"
    return None


def stale_stages(params: CaseParams, directory, stages=None) -> list[tuple[str, str]]:
    """(stage, reason) of each stale stage among ``stages`` (all of the case's by default), in order."""
    directory = Path(directory)
    records = read_records(directory)
    table = input_files(params)
    inputs = dict(zip(table["file"], table["sha256"]))
    found = []
    for stage in stages or params.stages:
        reason = _why_stale(params, directory, stage, records, inputs)
        if reason is not None:
            found.append((stage, reason))
    return found


def check_current(params: CaseParams, directory, stages, command) -> None:
    """Stop with one line when any of ``stages`` is stale: which stage, why, and the command that refreshes it
    (``command(stage)`` gives it).

    Raises
    ------
    InputError
        For the first stale stage.
    """
    stale = stale_stages(params, directory, stages)
    if stale:
        stage, reason = stale[0]
        raise InputError(f"the tables of stage {stage} of case '{params.case}' are stale ({reason}): "
                         f"refresh them with `{command(stage)}`")
