"""What a case report needs to be reproduced: input hashes, seeds, package versions, the command.

Every path field of the params (the customer file, a panel, interview codes)
is an input; every field named ``seed`` is a random seed. Both are found by
walking the params, so a new case needs no code here.
"""
from __future__ import annotations

import hashlib
import os
import platform
import re
from importlib import metadata
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from .params import CaseParams

__all__ = ["sha256", "params_leaves", "input_files", "random_seeds", "package_versions", "run_command"]

#: Params keys whose values a report never shows (keys of the pseudonyms).
SECRET_KEYS = ("pseudonym_salt",)


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def sha256(path) -> str:
    """SHA-256 of a file's bytes, in hexadecimal; of a directory (Parquet partitions), SHA-256 of the list of its
    files' paths (relative to it, in order) and their SHA-256."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for file in _files(path):
            digest.update(f"{file.relative_to(path).as_posix()}\0{sha256(file)}\n".encode("utf-8"))
        return digest.hexdigest()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def params_leaves(node, prefix: str = ""):
    """(dotted key, value) of every set leaf of the params, in declaration order (lists by position)."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            if name == "source_file":
                continue
            yield from params_leaves(getattr(node, name), f"{prefix}{name}.")
    elif isinstance(node, (list, tuple)):
        for position, item in enumerate(node):
            yield from params_leaves(item, f"{prefix}{position}.")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from params_leaves(item, f"{prefix}{key}.")
    elif node is not None:
        yield prefix.rstrip("."), node


def input_files(params: CaseParams) -> pd.DataFrame:
    """The input files the params name (paths relative to the params file), with size and SHA-256 (a directory of
    Parquet partitions: its files' total size, and :func:`sha256` of the directory).

    Returns
    -------
    DataFrame
        ``key``, ``file`` (as written in the params), ``bytes``, ``sha256``.
    """
    base = params.source_file.parent
    rows = []
    for key, value in params_leaves(params):
        if isinstance(value, Path):
            path = (base / value).resolve()
            size = sum(f.stat().st_size for f in _files(path)) if path.is_dir() else path.stat().st_size
            rows.append({"key": key, "file": value.as_posix(), "bytes": size, "sha256": sha256(path)})
    return pd.DataFrame(rows, columns=["key", "file", "bytes", "sha256"])


def random_seeds(params: CaseParams) -> pd.DataFrame:
    """Every seed in the params (``key``, ``seed``): parallel analysis, bootstrap, models, synthetic data."""
    rows = [{"key": key, "seed": value} for key, value in params_leaves(params) if key.rsplit(".", 1)[-1] == "seed"]
    return pd.DataFrame(rows, columns=["key", "seed"])


def package_versions() -> pd.DataFrame:
    """Python and the version of every package crmlib depends on (its installed metadata)."""
    names = [re.split(r"[\s=<>!~;\[]", r, maxsplit=1)[0] for r in metadata.requires("crmlib") or []
             if "extra ==" not in r]
    rows = [{"package": "python", "version": platform.python_version()}]
    rows += [{"package": n, "version": metadata.version(n)} for n in names]
    return pd.DataFrame(rows, columns=["package", "version"])


def run_command(params: CaseParams, params_dir, lang: str | None = None, stage: str | None = None) -> str:
    """The command that reproduces a case's outputs: by case name when its params file is in ``params_dir``
    (run from the repository root), else with ``--params``; from ``stage`` on when it is not the case's first."""
    in_params_dir = params.source_file.parent.resolve() == Path(params_dir).resolve()
    target = params.case if in_params_dir else f"--params {Path(os.path.relpath(params.source_file)).as_posix()}"
    options = f" --stage {stage.split('_')[0]}" if stage is not None and stage != params.stages[0] else ""
    options += f" --lang {lang}" if lang is not None else ""
    return f"crmlib run {target}{options}"
