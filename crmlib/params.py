"""Case parameters: one YAML file per case, validated, never computed on.

A case is everything that differs between studies: its data files, the indicator
system and cleaning rules of its customer file (top-level keys, :mod:`crmlib.schema`),
and one section per method family it uses (``factor_grading``, ``value_matrix``,
``survey``, ``customer_base``; each declared in ``crmlib/families/<family>/params.py``).
A case may combine families. :data:`CaseParams` is assembled from the registered
families (:data:`crmlib.families.FAMILIES`), so a new family needs no change here.

Loading validates the structure and the references between sections (an
indicator a family names must exist); it does not compute (AHP consistency, for
instance, is checked in stage 03). Paths inside a params file are relative to that
file. Unknown keys are errors, so a misspelt option is never silently ignored; a key
that moved into a family's section is an error that names its new place.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from .errors import InputError
from .families import FAMILIES, Family
from .families.customer_base.params import (Bootstrap, ChurnFlag, ChurnModel, Concentration, CustomerBase, Lifecycle,
                                            LifecycleStage, Panel, Tier, Tiers)
from .families.factor_grading.params import FactorGrading, Grade, Grading
from .families.survey.params import (Attribute, Comparison, EFASettings, Interviews, InterviewTheme, Scale, Survey,
                                     SurveyDimension, SurveyItem)
from .families.value_matrix.params import (AxisThreshold, RelationshipStage, RelationshipStages, ValueClass,
                                           ValueDimension, ValueMatrix, ValueMatrixFamily, ValueModel, WeightSpec)
from .schema import (IDENTIFIER, STAGES, UNITS, CleaningRules, DataSource, FactorAnalysisSettings, FactorCount,
                     Indicator, ReportSettings, Strict, SyntheticFeature, SyntheticIndicator, SyntheticPanelSpec,
                     SyntheticSpec)

__all__ = [
    "UNITS", "STAGES", "Indicator", "DataSource", "ReportSettings", "CleaningRules", "FactorCount",
    "FactorAnalysisSettings", "FactorGrading", "Grade", "Grading", "WeightSpec", "ValueDimension", "ValueModel",
    "AxisThreshold", "ValueClass", "RelationshipStage", "RelationshipStages", "ValueMatrix", "ValueMatrixFamily",
    "Scale", "SurveyItem", "SurveyDimension", "Attribute", "Comparison", "EFASettings", "InterviewTheme",
    "Interviews", "Survey", "Tier", "Tiers", "Bootstrap", "Concentration", "Panel", "ChurnFlag", "LifecycleStage",
    "Lifecycle", "ChurnModel", "CustomerBase", "SyntheticIndicator", "SyntheticSpec", "SyntheticFeature",
    "SyntheticPanelSpec", "CaseBase", "CaseParams", "case_model", "load_params", "find_params", "list_cases",
]


class CaseBase(Strict):
    """The keys every case has; :func:`case_model` adds one optional section per family."""

    case: str = Field(description="Case name: the directory name of its outputs.")
    title_en: str
    title_zh: str = Field(default="", description="Chinese title (needed for a Chinese report).")
    replaces: list[str] = Field(default=[], description="Former case names now part of this case: running one "
                                "of them stops with an error naming this case.")
    data: DataSource | None = Field(default=None, description="The customer file (every family but the survey, "
                                    "which has its own response file).")
    indicators: list[Indicator] = Field(default=[], description="The index system of the customer file.")
    cleaning: CleaningRules = CleaningRules()
    report: ReportSettings = ReportSettings()
    synthetic: SyntheticSpec | None = Field(default=None, description="Factor model of a synthetic customer file.")
    synthetic_panel: SyntheticPanelSpec | None = Field(
        default=None, description="Model of a synthetic customer file and monthly AUM panel (customer_base.panel).")
    proposed: list[str] = Field(default=[], description="Keys `crmlib new-case` guessed from the data file "
                                "(dotted, e.g. indicators.3.direction): the report lists them as unconfirmed until "
                                "they are removed from this list.")
    source_file: Path | None = Field(default=None, exclude=True)

    @field_validator("case")
    @classmethod
    def _case_is_identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"case name '{value}' must be letters, digits and _")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        ids = self.indicator_ids
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"indicator listed twice: {', '.join(duplicated)}")
        columns = [i.source_column for i in self.indicators]
        if len(set(columns)) != len(columns):
            raise ValueError("two indicators read the same data column")
        if self.indicators and self.data is None:
            raise ValueError("indicators need a customer file: give `data`")
        if self.data is not None and len(ids) < 2:
            raise ValueError("a customer file needs at least two indicators (a questionnaire's response file is "
                             "declared as survey.data)")
        used = self.families
        if not [f for f in used if f.key is not None]:
            raise ValueError(f"give at least one method family: {', '.join(f.key for f in FAMILIES if f.key)}")
        if self.report.lang == "zh" and not self.title_zh:
            raise ValueError("a Chinese report (report.lang: zh) needs title_zh")
        if self.synthetic is not None:
            self.synthetic.check(ids, "synthetic")
        if self.synthetic_panel is not None:
            unknown = sorted(set(self.synthetic_panel.features) ^ set(ids))
            if unknown or not set(self.synthetic_panel.drivers) <= set(ids):
                raise ValueError("synthetic_panel.features must list each indicator once, and drivers must be "
                                 f"indicators (mismatch: {unknown or sorted(set(self.synthetic_panel.drivers) - set(ids))})")
        if self.data is not None and self.data.matrix is not None:
            for family in used:
                if not family.takes_matrix:
                    raise ValueError(f"the {family.title_en.lower()} family ({family.key}) needs customers, not a "
                                     "correlation matrix (data.matrix): remove its section")
        for family in used:
            if family.key is not None:
                getattr(self, family.key).check(self)
        return self

    @property
    def families(self) -> list[Family]:
        """The families this case uses, in registry order (the customer file first when it has indicators)."""
        return [f for f in FAMILIES if f.applies(self)]

    @property
    def stages(self) -> list[str]:
        """The stages this case runs: those in which one of its families takes part."""
        return [s for s in STAGES if any(f.takes_part(self, s) for f in self.families)]

    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def resolve(self, path) -> Path:
        """A path of the params, resolved against the params file's directory."""
        base = self.source_file.parent if self.source_file is not None else Path.cwd()
        return (base / path).resolve()

    @property
    def data_path(self) -> Path:
        """The customer file, resolved against the params file's directory."""
        return self.resolve(self.data.path)

    def data_sources(self) -> list[tuple[str, DataSource]]:
        """(params key, section) of every data file the case reads: the customer file and each family's own."""
        sources = [("data", self.data)] if self.data is not None else []
        for family in self.families:
            if family.key is not None and isinstance(getattr(getattr(self, family.key), "data", None), DataSource):
                sources.append((f"{family.key}.data", getattr(self, family.key).data))
        return sources

    def named(self) -> list:
        """Everything with an id and labels the params declare: indicators and each family's named segments."""
        named = list(self.indicators)
        for family in self.families:
            if family.key is not None:
                named += getattr(self, family.key).named()
        return named


def case_model(families: list[Family]) -> type[CaseBase]:
    """The model of a case's params: :class:`CaseBase` with one optional section per family."""
    sections = {f.key: (f.model | None, Field(default=None, description=f.title_en)) for f in families
                if f.key is not None}
    return create_model("CaseParams", __base__=CaseBase, **sections)


#: The model of a case's params with every registered family.
CaseParams = case_model(FAMILIES)


def _key_of(location: tuple) -> str:
    return ".".join(str(part) for part in location)


def _moved_key(raw: dict) -> tuple[str, str] | None:
    """The first key of ``raw`` that a family's ``moved`` map names (dotted), with its new place."""
    for family in FAMILIES:
        for old, new in family.moved.items():
            node = raw
            for part in old.split("."):
                node = node.get(part) if isinstance(node, dict) else None
                if node is None:
                    break
            else:
                return old, new
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1}"
                    "): keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path):
    """A YAML file's content (UTF-8), with a located error for a missing file, a directory, another encoding,
    invalid YAML or a key given twice."""
    if path.is_dir():
        raise InputError("is a directory: give the case's YAML file (params/<case>.yaml)", file=path)
    if not path.is_file():
        raise InputError("params file does not exist: check the path (`crmlib list` shows the cases in params/)",
                         file=path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InputError("the file is not UTF-8 text (saved as GBK?): save it as UTF-8 in your editor",
                         file=path, row=line) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}: check that line's indentation and "
                         "brackets; quote a value holding ': ' or ' #'", file=path,
                         row=None if mark is None else mark.line + 1) from None


def load_params(path) -> CaseParams:
    """Read and validate a case's YAML file.

    Raises
    ------
    InputError
        When the file does not exist, is not valid YAML, or breaks the schema
        (unknown key, wrong type, inconsistent values, a key that moved); the
        message names the file and the key.
    """
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError("a params file must be a mapping of keys to values (`key: value` lines), not a list or a "
                         "single value: start from the draft `crmlib new-case` writes", file=path)
    moved = _moved_key(raw)
    if moved is not None:
        raise InputError(f"this key moved: write it as '{moved[1]}'", file=path, key=moved[0])
    try:
        params = CaseParams.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = ("unknown key: check its spelling and place (every key is documented in crmlib/schema.py "
                       "and in crmlib/families/<family>/params.py)")
        raise InputError(message, file=path, key=_key_of(first["loc"]) or None) from None
    return params.model_copy(update={"source_file": path.resolve()})


def find_params(case: str, params_dir="params") -> Path:
    """The params file of a case named in ``params_dir`` (``params/<case>.yaml``).

    Raises
    ------
    InputError
        When there is none; when another case ``replaces`` that name, the error names it.
    """
    path = Path(params_dir) / f"{case}.yaml"
    if path.is_file():
        return path
    for other in sorted(Path(params_dir).glob("*.yaml")):
        raw = read_yaml(other)
        if isinstance(raw, dict) and case in (raw.get("replaces") or []):
            raise InputError(f"case '{case}' is now part of case '{raw.get('case', other.stem)}': "
                             f"run `crmlib run {other.stem}`", file=other, key="replaces")
    known = ", ".join(list_cases(params_dir)) or "none"
    raise InputError(f"no case named '{case}' (known cases: {known}): check the name, or write the case with "
                     "`crmlib new-case`", file=path)


def list_cases(params_dir="params") -> list[str]:
    """Names of the cases in ``params_dir``, sorted."""
    return sorted(p.stem for p in Path(params_dir).glob("*.yaml"))
