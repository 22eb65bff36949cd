"""Method families: a new family is one folder plus a registration; a case runs and shows only its families."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmlib import families, load_params, tables

ROOT = Path(__file__).resolve().parent.parent
TOY = Path(__file__).resolve().parent / "toy_family"


def test_every_family_keeps_its_own_files():
    """Each family folder holds its params model, stage functions, table declarations and notebook sections,
    and no family module imports another family."""
    for family in families.FAMILIES:
        files = {p.name for p in family.directory.glob("*.py")}
        assert {"__init__.py", "stages.py", "tables.py"} <= files, family.folder
        assert family.key is None or "params.py" in files, family.folder
        assert [p.stem for p in (family.directory / "sections").glob("*.py")], family.folder
        others = {f.folder for f in families.FAMILIES} - {family.folder}
        for path in family.directory.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for other in others:
                assert f"families.{other}" not in text and f"from ..{other}" not in text, (path, other)


def test_the_stages_a_family_reads_for_are_its_stage_functions():
    """``takes_part`` trusts ``reads`` to name the stages a family has a function for, without importing them."""
    for family in [*families.FAMILIES, _toy_family()]:
        assert set(family.reads) == {s for s in families.STAGE_FUNCTIONS if family.stage_function(s) is not None}, \
            family.folder


def _toy_family():
    sys.path.insert(0, str(TOY.parent))
    try:
        return __import__("toy_family").FAMILY
    finally:
        sys.path.remove(str(TOY.parent))


def test_every_table_is_declared_once_by_one_family():
    declared = [t.name for f in families.FAMILIES for t in f.tables]
    assert len(declared) == len(set(declared)) == len(tables.registry())
    for table in tables.registry().values():
        assert table.shown in {"report", "workbook", "figure", "stage"} and table.caption_en and table.caption_zh
        assert table.columns, table.name


def _toy_case(make_case, widest=2):
    """A small Shaoxing-like case that also declares the toy family (written after make_case has loaded it, since
    this test process does not register the toy family)."""
    path = make_case(n=80, edit_params=lambda p: p.update(report={"lang": "en"}))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["toy"] = {"widest": widest}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _run(*args, cwd):
    env = dict(os.environ, CRMLIB_FAMILIES="toy_family",
               PYTHONPATH=os.pathsep.join([str(TOY.parent), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "crmlib.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def test_a_toy_family_adds_a_stage_section_without_touching_the_others(make_case, tmp_path):
    """The toy family (tests/toy_family: one folder, registered by CRMLIB_FAMILIES) adds its table and its section
    to stage 04 of a case that declares it; every other stage notebook holds the same cells as without it."""
    from crmlib.runner import assemble
    path = _toy_case(make_case)
    result = _run("run", "--params", path, "--output-dir", tmp_path / "with", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plain = yaml.safe_load(path.read_text(encoding="utf-8"))
    plain.pop("toy")
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(plain, allow_unicode=True), encoding="utf-8")
    plain_params = load_params(tmp_path / "plain.yaml")  # this process does not know the toy family

    processed = tmp_path / "with" / "data" / "processed" / "tiny"
    ranges = pd.read_csv(processed / "indicator_ranges.csv")
    z = pd.read_csv(processed / "standardized_indicators.csv").set_index("customer_id")
    spread = (z.max() - z.min()).sort_values(ascending=False, kind="stable")
    assert ranges["indicator"].tolist() == spread.index[:2].tolist()
    assert ranges["range"].tolist() == pytest.approx(spread.iloc[:2].tolist(), abs=1e-12)

    def executed(stage):
        notebook = json.loads((tmp_path / "with" / "reports" / "tiny" / f"{stage}.ipynb").read_text(encoding="utf-8"))
        return ["".join(cell["source"]) for cell in notebook["cells"] if cell["id"] != "injected-parameters"]

    def without_toy(stage):
        return [cell.source for cell in assemble(plain_params, stage).cells]

    for stage in ["01_clean", "02_indicators", "03_factor_analysis", "05_strategy"]:
        assert executed(stage) == without_toy(stage)
    for notebook in (tmp_path / "with" / "reports" / "tiny").glob("*.ipynb"):  # the kernel printed nothing stray
        streams = [output for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                   for output in cell.get("outputs", []) if output["output_type"] in ("stream", "error")]
        assert streams == [], (notebook.name, streams)
    with_toy, without = executed("04_segmentation"), without_toy("04_segmentation")
    assert with_toy[:len(without)] == without
    assert with_toy[len(without)].startswith("### Indicator ranges")
    page = (tmp_path / "with" / "reports" / "tiny" / "report.html").read_text(encoding="utf-8")
    assert 'id="table-indicator_ranges"' in page and "Indicators with the widest range" in page


def test_a_family_key_is_unknown_until_the_family_is_registered(make_case):
    from crmlib import InputError
    with pytest.raises(InputError, match="key 'toy': unknown key"):
        load_params(_toy_case(make_case))


def test_a_registered_family_checks_its_section(make_case, tmp_path):
    result = _run("run", "--params", _toy_case(make_case, widest=99), "--output-dir", tmp_path / "o", cwd=tmp_path)
    assert result.returncode == 2 and "toy.widest: the case has only 14 indicators" in result.stderr
