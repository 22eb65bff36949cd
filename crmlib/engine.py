"""Where the customer-base computations and the factor grading run: DuckDB in this process (the default) or Apache
Spark.

The computations are SQL written once, in DuckDB's dialect kept to a portable subset (no named windows refined
with a frame, no DuckDB-only functions), and run as written by DuckDB or translated by sqlglot to Spark SQL. An
:class:`Engine` registers tables (a CSV, Parquet file or directory of Parquet partitions, a Spark catalog table,
or an in-memory DataFrame) under a name, runs queries and returns their (small) results as pandas DataFrames; a
per-customer result (:class:`EngineTable`) is written by the engine itself, as Parquet above
:data:`crmlib.io.PARQUET_ROWS` rows, in the order of its source's rows (``numbered`` tables).

Conventions that make the results the same on every engine and every run:

- **Sums are exact.** Amounts are summed as ``DECIMAL(38, 6)`` (:data:`EXACT`): each amount is rounded to a
  millionth of its unit, then added exactly, so the sum does not depend on the order in which threads add it.
  Means, shares and the Gini are ratios of such sums, computed as doubles at the end (:func:`exact_mean` rounds to
  the places a measure needs; the correlation matrix of the factor grading sums products of z-scores rounded to
  12 places, :func:`crmlib.factors.exact_moments`).
- **Quantiles are exact** (``quantile_cont``, Spark's ``percentile``), never approximate; the quantiles of
  several columns are taken in as many queries as their values need (:func:`exact_quantiles`).
- **Samples are drawn by hash**: a sample of n customers is the n with the smallest MD5 of ``'<seed>:<id>'``,
  ties by id, so every engine draws the same customers.
- **Every ordered output is ordered by its keys**, ties broken by customer id.

The engine is chosen per run (``crmlib run --engine spark``; the environment variable ``CRMLIB_ENGINE`` passes
it to the stage notebooks). Spark runs on ``local[*]`` unless ``CRMLIB_SPARK_MASTER`` (``--spark-master``) names
a cluster's master or ``CRMLIB_SPARK_REMOTE`` (``--spark-remote``) a Spark Connect server. A process starts at
most one Spark session, kept for all the stages a kernel runs; a table made again in it from the same SQL and the
same inputs is the one already made (:meth:`SparkEngine.create`).
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .errors import InputError

__all__ = ["ENGINES", "ENGINE_ENV", "EXACT", "Engine", "EngineTable", "DuckDBEngine", "SparkEngine", "current",
           "spark_available", "exact_mean", "exact_quantiles", "hash_order", "number", "quote", "text"]

ENGINES = ("duckdb", "spark")
ENGINE_ENV = "CRMLIB_ENGINE"
SPARK_MASTER_ENV = "CRMLIB_SPARK_MASTER"
SPARK_REMOTE_ENV = "CRMLIB_SPARK_REMOTE"
#: More options for the Spark driver's JVM (in local mode, the whole of Spark), such as
#: ``-XX:TieredStopAtLevel=1 -XX:+UseSerialGC``, which halve the CPU that short runs on small data spend compiling and
#: collecting (the tests use them), at the cost of slower long runs.
SPARK_JAVA_OPTIONS_ENV = "CRMLIB_SPARK_JAVA_OPTIONS"
#: DuckDB's memory limit (a DuckDB size, :data:`DUCKDB_MEMORY` by default).
DUCKDB_MEMORY_ENV = "CRMLIB_DUCKDB_MEMORY"
#: The default memory limit: with it a run on 1,000,000 customers x 24 months peaks at 0.92 GiB in all and takes
#: no longer than with 1GB (``benchmarks/README.md``); past it DuckDB spills to disk. Bases of ten million customers
#: and more run faster with more (at 1e7: 117 s and 1.07 GiB with 640MB, 70 s and 2.78 GiB with 2.5GB).
DUCKDB_MEMORY = "640MB"

#: The type amounts are summed in: exact, so a sum does not depend on the order of its terms.
EXACT = "DECIMAL(38, 6)"


def quote(name: str) -> str:
    """An identifier quoted for SQL (any header, Chinese and brackets included)."""
    return '"' + name.replace('"', '""') + '"'


def text(value) -> str:
    """A SQL string literal of ``value``."""
    return "'" + str(value).replace("'", "''") + "'"


def number(value: float) -> str:
    """A SQL double of ``value``, exactly: its shortest decimal form cast from text (a bare decimal literal would be
    read as a DECIMAL by DuckDB, then rounded to a double, which may miss the value by a unit in the last place)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def exact_mean(expression: str, decimals: int) -> str:
    """The SQL mean of ``expression`` (a double), each value rounded to ``decimals`` places and summed exactly as
    ``DECIMAL(38, decimals)``, so that the mean does not depend on the order in which threads add the values."""
    return f"CAST(SUM(CAST({expression} AS DECIMAL(38, {decimals}))) AS DOUBLE) / COUNT({expression})"


#: The memory the values of the exact quantiles of one query may take (8 bytes a value, per column and level).
QUANTILE_BYTES = 128 * 2**20


def exact_quantiles(run: Engine, table: str, columns: list[str], levels: list[float], rows: int | None = None
                    ) -> np.ndarray:
    """The quantiles ``levels`` of each of ``columns`` of engine table ``table`` (as doubles, missing values left
    out): exact, by linear interpolation between order statistics (R's ``quantile(type = 7)``, numpy's
    ``linear``): DuckDB's ``quantile_cont``, Spark's ``percentile``. An exact quantile holds the column's values in
    memory (8 bytes a customer; DuckDB cannot spill them), so a query takes as many columns as fit in
    :data:`QUANTILE_BYTES` (all of them for a small table; one for ten million customers). Returns an array of
    ``len(columns)`` rows and ``len(levels)`` columns, NaN for a column with no values. ``rows``: the table's rows
    (or most values of a column) when known, else counted."""
    rows = int(run.first(f"SELECT COUNT(*) AS n FROM {table}")["n"]) if rows is None else rows
    per_query = max(1, QUANTILE_BYTES // (8 * max(rows, 1) * len(levels)))
    found = np.full((len(columns), len(levels)), np.nan)
    for start in range(0, len(columns), per_query):
        batch = columns[start:start + per_query]
        row = run.first("SELECT " + ", ".join(f"quantile_cont(CAST({quote(c)} AS DOUBLE), {number(q)}) AS q{i}_{k}"
                                              for i, c in enumerate(batch) for k, q in enumerate(levels))
                        + f" FROM {table}")
        for i in range(len(batch)):
            found[start + i] = [np.nan if row[f"q{i}_{k}"] is None or pd.isna(row[f"q{i}_{k}"])
                                else float(row[f"q{i}_{k}"]) for k in range(len(levels))]
    return found


def hash_order(seed: int, id_column: str = "id") -> str:
    """The SQL expression that orders customers for a seeded sample: MD5 of ``'<seed>:<id>'`` (ties: by id)."""
    return f"md5(CAST({seed} AS VARCHAR) || ':' || CAST({id_column} AS VARCHAR)), {id_column}"


class Engine:
    """A SQL engine holding named tables. Subclasses implement :meth:`_register`, :meth:`_frame` and
    :meth:`_sql`; queries are written in DuckDB's dialect."""

    name = "engine"

    def table(self, name: str, source, columns: dict[str, str] | None = None, *, text: bool = False,
              encoding: str = "utf-8", numbered: bool = False) -> None:
        """Register ``source`` as table ``name``.

        ``source`` is a DataFrame, a path (``.csv``, ``.csv.gz``, ``.parquet``, or a directory of Parquet files)
        or, on Spark, a catalog table name (``catalog:db.table``). ``columns`` maps the names the queries use to
        the source's headers (all columns, as they are, by default); ``text`` reads every column of a CSV as text.
        With ``numbered``, a DataFrame or Parquet source gains the column ``input_row``: the row's place in the
        source, from 1 (a directory's files in the order of their paths, as pandas and pyarrow read them), so
        that a result can keep the source's order and an error can name the row.
        """
        if isinstance(source, pd.DataFrame):
            frame = source.reset_index() if source.index.name is not None else source
            if columns is not None:
                frame = frame[list(columns.values())].set_axis(list(columns), axis=1)
            if numbered:
                frame = frame.assign(input_row=range(1, len(frame) + 1))
            self._frame(name, frame)
        elif numbered:
            if _source_kind(Path(source)) != "parquet":
                raise InputError("only a Parquet source can be read with its row numbers", file=source)
            self._register_rows(f"{name}_files", source, columns)
            files = self.query(f"SELECT input_file, COUNT(*) AS n FROM {name}_files GROUP BY input_file")
            files = files.sort_values("input_file", key=lambda paths: paths.map(_path_key))
            offsets = [0, *files["n"].cumsum().tolist()[:-1]]
            start = " ".join(f"WHEN '{_literal(f)}' THEN {o + 1}" for f, o in zip(files["input_file"], offsets))
            selection = "*" if columns is None else ", ".join(quote(c) for c in columns)
            first = f"(CASE input_file {start} END)" if start else "1"
            self.create(name, f"SELECT {selection}, CAST({first} + input_index AS BIGINT) AS input_row "
                              f"FROM {name}_files", rows=True)
        else:
            self._register(name, source, columns, text, encoding)

    def create(self, name: str, sql: str, *, rows: bool = False) -> None:
        """Make table ``name`` from ``sql``, to be read more than once: materialized, or with ``rows`` (one row
        per customer and month: the panel) left to the engine, which may read its source again rather than
        hold it (DuckDB keeps it a view over the file; Spark caches it, spilling to disk)."""
        raise NotImplementedError

    def query(self, sql: str) -> pd.DataFrame:
        """The result of ``sql`` as a pandas DataFrame (meant for aggregates and samples, not the whole base)."""
        raise NotImplementedError

    def first(self, sql: str) -> dict | None:
        """The first row of the result of ``sql`` as a dict, or None when it has no rows (a check's finding)."""
        table = self.query(sql)
        return None if table.empty else table.iloc[0].to_dict()

    def write_parquet(self, sql: str, path) -> Path:
        """Write the result of ``sql`` (in its order) to ``path`` as one Parquet file, atomically: a temporary file in
        the same directory, then a rename, so that an interrupted write leaves the earlier file as it was."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
        try:
            self._write_parquet(sql, temporary)
            os.replace(temporary, path)
        finally:
            if temporary.is_dir():
                shutil.rmtree(temporary)
            temporary.unlink(missing_ok=True)
        return path

    def _write_parquet(self, sql, path):
        raise NotImplementedError

    def _register_rows(self, name, source, columns):
        """Register a Parquet ``source`` (a file or a directory) as ``name`` with ``input_file`` (its file's path)
        and ``input_index`` (the row's place in that file, from 0)."""
        raise NotImplementedError

    def columns(self, name: str) -> list[str]:
        """The column names of table ``name``."""
        return list(self.query(f"SELECT * FROM {name} LIMIT 0").columns)

    def require_columns(self, name: str, needed, *, file) -> None:
        """Raise :class:`InputError` naming ``file``, the first of the ``needed`` columns table ``name`` lacks, and
        the columns it has."""
        header = self.columns(name)
        missing = [c for c in needed if c not in header]
        if missing:
            raise InputError(f"column not found (the file has: {', '.join(header)}): write the header as it is in "
                             "the file", file=file, column=missing[0])

    def _register(self, name, source, columns, text, encoding):
        raise NotImplementedError

    def _frame(self, name, frame):
        raise NotImplementedError


class EngineTable:
    """A per-customer stage table that stays on the engine: ``sql`` (one row per customer, ``index`` its key),
    written in the order of ``order`` (columns of the tables ``sql`` reads), with the pandas ``types`` of columns
    that need one in memory (an integer column with missing values: ``Int64``). :func:`crmlib.pipeline.run_stage`
    writes it with :meth:`write`; the table is never loaded whole into memory above :data:`crmlib.io.PARQUET_ROWS`
    rows."""

    def __init__(self, run: Engine, sql: str, order: str, index: str = "customer_id",
                 types: dict[str, str] | None = None):
        self.run, self.sql, self.order, self.index, self.types = run, sql, order, index, types or {}

    def frame(self) -> pd.DataFrame:
        """The whole table in memory, in its order, indexed by its key (a small table)."""
        return self.run.query(f"{self.sql} ORDER BY {self.order}").set_index(self.index).astype(self.types)

    def write(self, directory, name: str) -> pd.DataFrame | None:
        """Write the table as stage table ``name`` of ``directory``: above :data:`~crmlib.io.PARQUET_ROWS` rows,
        Parquet written by the engine (returns None); otherwise CSV through pandas, as every small stage table
        (:func:`crmlib.io.write_stage_table`; returns the table)."""
        if int(self.run.first(f"SELECT COUNT(*) AS n FROM ({self.sql}) AS counted")["n"]) > io.PARQUET_ROWS:
            self.run.write_parquet(f"{self.sql} ORDER BY {self.order}", Path(directory) / f"{name}.parquet")
            (Path(directory) / f"{name}.csv").unlink(missing_ok=True)
            return None
        table = self.frame()
        io.write_stage_table(table, directory, name)
        return table


def _path_key(path: str) -> str:
    """A file's path as both engines name it (DuckDB: a path; Spark: a ``file:`` URI), for ordering files."""
    return path.removeprefix("file://")


def _source_kind(path: Path) -> str:
    if io.is_parquet(path):
        return "parquet"
    if path.name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise InputError("a table file must be CSV (.csv, .csv.gz) or Parquet (.parquet, or a directory of Parquet "
                     "files)", file=path)


def _selection(columns: dict[str, str] | None) -> str:
    if columns is None:
        return "*"
    return ", ".join(f"{quote(source)} AS {quote(target)}" for target, source in columns.items())


class DuckDBEngine(Engine):
    """DuckDB in this process: nothing to start. Its memory is bounded (``CRMLIB_DUCKDB_MEMORY``, :data:`DUCKDB_MEMORY` by default);
    past the bound it spills to a directory under the system's temporary directory, never the working one."""

    name = "duckdb"

    def __init__(self, threads: int | None = None):
        import duckdb
        import tempfile
        config = {"memory_limit": os.environ.get(DUCKDB_MEMORY_ENV, DUCKDB_MEMORY),
                  "temp_directory": str(Path(tempfile.gettempdir()) / f"crmlib-duckdb-{os.getpid()}")}
        self.connection = duckdb.connect(":memory:", config=config | ({"threads": threads} if threads else {}))
        self.connection.execute("SET preserve_insertion_order = false")

    def _register(self, name, source, columns, text, encoding):
        path = Path(source)
        if _source_kind(path) == "parquet":
            pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
            scan = f"read_parquet('{_literal(pattern)}')"
        else:
            options = ", all_varchar = true" if text else ""
            if encoding.lower() not in ("utf-8", "utf8"):
                raise InputError(f"DuckDB reads CSV files in UTF-8 only; save the file as UTF-8 (it is {encoding})",
                                 file=path)
            scan = f"read_csv('{_literal(str(path))}', header = true{options})"
        self.connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {_selection(columns)} FROM {scan}")

    def _register_rows(self, name, source, columns):
        path = Path(source)
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        scan = f"read_parquet('{_literal(pattern)}', filename = true, file_row_number = true)"
        selection = "* EXCLUDE (filename, file_row_number)" if columns is None else _selection(columns)
        self.connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {selection}, filename AS input_file, "
                                f"file_row_number AS input_index FROM {scan}")

    def _frame(self, name, frame):
        self.connection.register(f"{name}_frame", frame)
        self.connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_frame")

    def create(self, name, sql, *, rows=False):
        kinds = self.connection.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                        [name]).fetchall()
        for (kind,) in kinds:
            self.connection.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")
        self.connection.execute(f"CREATE {'VIEW' if rows else 'TEMP TABLE'} {name} AS {sql}")

    def query(self, sql):
        return self.connection.execute(sql).df()

    def _write_parquet(self, sql, path):
        self.connection.execute(f"COPY ({sql}) TO '{_literal(str(path))}' (FORMAT parquet)")


def _literal(text: str) -> str:
    return text.replace("'", "''")


@functools.cache
def _spark_session(master: str | None, remote: str | None):
    """The process's one Spark session (created on first use, kept for the kernel's later stages)."""
    from pyspark.sql import SparkSession
    builder = SparkSession.builder.appName("crmlib")
    if remote:
        return builder.remote(remote).getOrCreate()
    log = Path(__file__).resolve().parent / "templates" / "spark" / "log4j2.properties"
    session = (builder.master(master or "local[*]")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions",
                       f"-Dlog4j2.configurationFile=file:{log} {os.environ.get(SPARK_JAVA_OPTIONS_ENV, '')}".strip())
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", str(max(2, 2 * (os.cpu_count() or 1))))
               .config("spark.driver.memory", os.environ.get("CRMLIB_SPARK_DRIVER_MEMORY", "4g"))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


#: The tables the process's Spark session made (:meth:`SparkEngine.create`), by name: the session, the key of what
#: made the table (its SQL and, for each table the SQL reads, what that was made from: a file's path, size and
#: modification time, a DataFrame's content, or the key of a made table) and the cached table. A later stage of the
#: run that makes a table again from the same inputs takes it from here: stage 02 reads the panel that stage 01 read
#: and checked without reading the file again, unless the file changed in between.
_MADE: dict[str, tuple] = {}


#: The :func:`_file_stamp` of each file (or directory) the session read, by resolved path.
_READ: dict[str, tuple] = {}


def _key(value):
    """``value`` (a dict of column names, or None) as part of a hashable key."""
    return None if value is None else tuple(value.items())


def _file_stamp(path: Path) -> tuple:
    """A file's (or every file of a directory's) path, size and modification time: they change when it is
    rewritten."""
    path = path.resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


def _frame_digest(frame: pd.DataFrame) -> str | None:
    """A digest of a DataFrame's columns, types and values (None for values pandas cannot hash)."""
    digest = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:
        return None
    return digest.hexdigest()


def spark_available() -> str | None:
    """None when Spark can run here; otherwise why not (no pyspark, or no Java runtime)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if os.environ.get("JAVA_HOME") is None and shutil.which("java") is None:
        return "no Java runtime (install one, e.g. Debian's openjdk-17-jre-headless)"
    return None


class SparkEngine(Engine):
    """Apache Spark (``local[*]``, a cluster's master, or a Spark Connect server); queries are translated from
    DuckDB's dialect to Spark SQL by sqlglot."""

    name = "spark"

    def __init__(self, master: str | None = None, remote: str | None = None):
        reason = spark_available()
        if reason is not None:
            raise InputError(f"the Spark engine cannot start: {reason}")
        try:
            self.spark = _spark_session(master, remote)
        except Exception as error:  # the JVM's own message went to the log; name what to check
            where = f"Spark Connect server {remote}" if remote else f"master '{master or 'local[*]'}'"
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputError(f"Spark could not start with {where} ({first}): check --spark-master or "
                             "--spark-remote, and the Java runtime") from None
        #: What each table this engine registered was made from (None: unknown, so never taken from _MADE).
        self._inputs: dict[str, tuple | None] = {}

    @staticmethod
    def translate(sql) -> str:
        """``sql`` (text, or as sqlglot parsed it) in Spark's dialect (sqlglot). DuckDB's exact
        ``quantile_cont(x, q)`` becomes Spark's exact ``percentile(x, q)`` (both interpolate linearly, R's type 7),
        which sqlglot would write as Spark's ``percentile_cont``, a function of another form."""
        import sqlglot
        from sqlglot import expressions

        def exact_percentile(node):
            if isinstance(node, expressions.PercentileCont) and node.expression is not None:
                return expressions.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
            return node

        parsed = sql if isinstance(sql, expressions.Expression) else sqlglot.parse_one(sql, read="duckdb")
        return parsed.transform(exact_percentile).sql(dialect="spark")

    def _register(self, name, source, columns, text, encoding):
        if isinstance(source, str) and source.startswith("catalog:"):
            frame = self.spark.table(source.removeprefix("catalog:"))
            self._inputs[name] = None  # a catalog table may change unseen: what is made from it is made anew
        else:
            path = Path(source)
            stamp = self._stamp(path)
            if _source_kind(path) == "parquet":
                frame = self.spark.read.parquet(str(path))
            else:
                frame = self.spark.read.csv(str(path), header=True, encoding=encoding, inferSchema=not text)
            self._inputs[name] = ("file", stamp, _key(columns), text, encoding)
        if columns is not None:
            from pyspark.sql import functions
            frame = frame.select([functions.col(f"`{source}`").alias(target) for target, source in columns.items()])
        frame.createOrReplaceTempView(name)

    def _register_rows(self, name, source, columns):
        from pyspark.sql import functions
        path = Path(source)
        stamp = self._stamp(path)
        frame = self.spark.read.parquet(str(path))
        selected = [functions.col("*")] if columns is None else [
            functions.col(f"`{source}`").alias(target) for target, source in columns.items()]
        frame.select(*selected, functions.col("_metadata.file_path").alias("input_file"),
                     functions.col("_metadata.row_index").alias("input_index")).createOrReplaceTempView(name)
        self._inputs[name] = ("rows", stamp, _key(columns))

    def _stamp(self, path: Path) -> tuple:
        """The file's :func:`_file_stamp`; when it differs from the one this session last read, what Spark holds of
        the file (its listing, and the tables cached from it) is refreshed first."""
        where, stamp = str(path.resolve()), _file_stamp(path)
        if _READ.get(where, stamp) != stamp:
            self.spark.catalog.refreshByPath(str(path))
        _READ[where] = stamp
        return stamp

    def _frame(self, name, frame):
        self.spark.createDataFrame(frame).createOrReplaceTempView(name)
        digest = _frame_digest(frame)
        self._inputs[name] = None if digest is None else ("frame", digest)

    def create(self, name, sql, *, rows=False):
        """Make table ``name`` (cached by Spark), or take the one this session made from the same SQL and the same
        inputs (:data:`_MADE`)."""
        import sqlglot
        from sqlglot import expressions
        parsed = sqlglot.parse_one(sql, read="duckdb")
        translated = self.translate(parsed)
        read = sorted({t.name for t in parsed.find_all(expressions.Table)}
                      - {c.alias_or_name for c in parsed.find_all(expressions.CTE)})
        inputs = [(table, self._inputs.get(table)) for table in read]
        key = None if any(made is None for _, made in inputs) else ("sql", translated, tuple(inputs))
        made = _MADE.get(name)
        if key is not None and made is not None and made[0] is self.spark and made[1] == key:
            frame = made[2]
        else:
            frame = self.spark.sql(translated).cache()
            frame.count()
            _MADE[name] = (self.spark, key, frame)
        frame.createOrReplaceTempView(name)
        self._inputs[name] = key

    def query(self, sql):
        return self.spark.sql(self.translate(sql)).toPandas()

    def _write_parquet(self, sql, path):
        """One file: the ordered result in one partition, its one part file moved to ``path``."""
        folder = path.with_name(path.name + ".parts")
        try:
            self.spark.sql(self.translate(sql)).coalesce(1).write.mode("overwrite").parquet(str(folder))
            (part,) = folder.glob("part-*.parquet")
            os.replace(part, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def current(name: str | None = None) -> Engine:
    """A new engine of the run's kind: ``name``, else ``$CRMLIB_ENGINE``, else DuckDB.

    Raises
    ------
    InputError
        For an unknown engine name, or Spark where it cannot start.
    """
    name = name or os.environ.get(ENGINE_ENV) or "duckdb"
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(os.environ.get(SPARK_MASTER_ENV), os.environ.get(SPARK_REMOTE_ENV))
    raise InputError(f"unknown engine '{name}': choose one of {', '.join(ENGINES)}")
