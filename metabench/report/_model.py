"""The report model: a tree of sections holding text, tables and charts, plus provenance.

One :class:`Report` renders to HTML, Markdown, LaTeX and JSON, like statsmodels'
``Summary`` renders to text, HTML and LaTeX. The renderers live in private modules; the
model only holds content and validates it.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from metabench.errors import InputError
from metabench.report import _format
from metabench.report._markup import Block, parse_blocks

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Block", "Chart", "Provenance", "Report", "Section", "Table", "Text"]

SCHEMA = "metabench.report"
"""The ``schema`` field of every report JSON document."""

SCHEMA_VERSION = 1
"""The version of the report JSON schema this module writes and reads."""

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_key(value: str, what: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise InputError(
            f"{what} {value!r} is not a valid identifier",
            fix="use letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. 'overview')",
            kind="invalid_key",
        )
    return value


def _check_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


# ------------------------------------------------------------------------------ blocks


@dataclass(frozen=True)
class Text:
    """A paragraph (or several) of text in a small markdown subset.

    Parameters
    ----------
    markdown : str
        The text. Supported: ``**bold**``, ``*italic*``, ```code```, ``[link](url)``,
        bullet lists with lines starting ``"- "``, and blank lines between paragraphs.
        Anything else, raw HTML included, is shown literally.

    Examples
    --------
    >>> Text("Model **A** beats *B*.").to_dict()
    {'type': 'text', 'markdown': 'Model **A** beats *B*.'}
    """

    markdown: str

    def __post_init__(self) -> None:
        _check_str(self.markdown, "Text.markdown")

    @property
    def blocks(self) -> list[Block]:
        """The parsed paragraphs and lists (see :mod:`metabench.report._markup`)."""
        return parse_blocks(self.markdown)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the block."""
        return {"type": "text", "markdown": self.markdown}


@dataclass(frozen=True, eq=False)
class Table:
    """A table of results.

    Parameters
    ----------
    frame : polars.DataFrame
        The data; a pandas DataFrame is converted. Column names become the header.
    caption : str
        A one-line caption (inline markdown allowed).
    notes : str
        Notes printed under the table (inline markdown allowed).
    digits : int
        Decimals shown for float columns; tiny or huge values switch to scientific
        notation so that they do not print as ``0.000``. JSON keeps full precision.
    label : str, optional
        A stable identifier, used as the LaTeX ``\\label{tab:...}`` and the HTML id.

    Notes
    -----
    Missing values (``None`` and NaN) are shown as an em dash ("—") in HTML and Markdown,
    as ``--`` in LaTeX, and as ``null`` in JSON.

    Examples
    --------
    >>> import polars as pl
    >>> t = Table(pl.DataFrame({"model": ["a", "b"], "acc": [0.71234, None]}), caption="Accuracy", digits=2)
    >>> t.columns, t.numeric
    (['model', 'acc'], [False, True])
    >>> t.cells("—")
    [['a', '0.71'], ['b', '—']]
    """

    frame: pl.DataFrame
    caption: str = ""
    notes: str = ""
    digits: int = 3
    label: str | None = None

    def __post_init__(self) -> None:
        frame = self.frame
        if not isinstance(frame, pl.DataFrame):
            if type(frame).__module__.startswith("pandas"):
                frame = pl.from_pandas(frame)
                object.__setattr__(self, "frame", frame)
            else:
                raise TypeError(
                    f"Table needs a polars.DataFrame, not {type(frame).__name__}; "
                    "wrap results with .to_frame() or polars.DataFrame(...)"
                )
        _check_str(self.caption, "Table.caption")
        _check_str(self.notes, "Table.notes")
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not 0 <= self.digits <= 15:
            raise InputError(
                f"Table.digits must be an integer from 0 to 15, not {self.digits!r}", kind="invalid_digits"
            )
        if self.label is not None:
            _check_key(self.label, "Table.label")

    @property
    def columns(self) -> list[str]:
        """The column names."""
        return list(self.frame.columns)

    @property
    def numeric(self) -> list[bool]:
        """For each column, whether it holds numbers (right-aligned when rendered)."""
        return [_format.is_numeric_dtype(dtype) for dtype in self.frame.dtypes]

    def cells(self, missing: str) -> list[list[str]]:
        """Every cell formatted as text (not escaped), row by row.

        Parameters
        ----------
        missing : str
            What to show for missing values.
        """
        # Report tables are small (they are read by people); per-cell Python formatting is
        # fine here and keeps the rules in one place for every format.
        columns = [
            [_format.format_value(v, self.digits, missing) for v in self.frame.get_column(name).to_list()]
            for name in self.frame.columns
        ]
        return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(self.frame.height)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: raw values (NaN as ``null``), column names and dtypes."""
        return {
            "type": "table",
            "caption": self.caption,
            "notes": self.notes,
            "label": self.label,
            "digits": self.digits,
            "columns": self.columns,
            "dtypes": [str(dtype) for dtype in self.frame.dtypes],
            "rows": [list(row) for row in self.frame.rows()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Table:
        """Rebuild a table from :meth:`to_dict` output."""
        columns = list(data.get("columns", []))
        dtypes = list(data.get("dtypes") or [None] * len(columns))
        rows = data.get("rows", [])
        series = [
            _series_from_json(name, [row[i] for row in rows], dtype)
            for i, (name, dtype) in enumerate(zip(columns, dtypes))
        ]
        return cls(
            pl.DataFrame(series),
            caption=data.get("caption", ""),
            notes=data.get("notes", ""),
            digits=data.get("digits", 3),
            label=data.get("label"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (self.caption, self.notes, self.digits, self.label) == (
            other.caption,
            other.notes,
            other.digits,
            other.label,
        ) and self.frame.equals(other.frame)

    __hash__ = None  # type: ignore[assignment]  # mutable-by-content, like a DataFrame

    def __repr__(self) -> str:
        return f"Table({self.frame.height}x{self.frame.width}, caption={self.caption!r})"


_SIMPLE_DTYPES: dict[str, Any] = {
    str(t): t
    for t in (
        pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64,
        pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64, pl.Boolean, pl.String, pl.Null,
    )
}  # fmt: skip


def _series_from_json(name: str, values: list[Any], dtype: str | None) -> pl.Series:
    if dtype in _SIMPLE_DTYPES:
        return pl.Series(name, values, dtype=_SIMPLE_DTYPES[dtype], strict=False)
    if dtype == "Date":
        return pl.Series(name, values, dtype=pl.String).str.to_date()
    if dtype is not None and dtype.startswith("Datetime"):
        return pl.Series(name, values, dtype=pl.String).str.to_datetime()
    return pl.Series(name, values, strict=False)


@dataclass(frozen=True)
class Chart:
    """A chart, stored as its Vega-Lite specification.

    Parameters
    ----------
    chart : altair.TopLevelMixin or dict
        Any top-level altair chart (``Chart``, ``LayerChart``, concatenations, facets), or a
        Vega-Lite specification as a dict. Data must be inline (altair's default).
    caption : str
        A one-line caption (inline markdown allowed).
    name : str, optional
        A stable identifier, used as the HTML element id; defaults to one derived from the
        section key and the chart's position.

    Attributes
    ----------
    spec : dict
        The Vega-Lite specification, taken when the chart was created.

    Examples
    --------
    >>> import altair as alt, polars as pl
    >>> c = Chart(alt.Chart(pl.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q"), caption="Bars")
    >>> c.spec["mark"]
    {'type': 'bar'}
    """

    chart: Any = field(compare=False)
    caption: str = ""
    name: str | None = None
    spec: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        chart = self.chart
        if isinstance(chart, Mapping):
            spec = copy.deepcopy(dict(chart))
        elif hasattr(chart, "to_dict") and hasattr(chart, "to_json"):
            try:
                spec = chart.to_dict()
            except Exception as exc:
                if type(exc).__name__ == "MaxRowsError":
                    raise InputError(
                        f"the chart has too many rows to embed: {exc}",
                        fix="aggregate the data first, or call altair.data_transformers.disable_max_rows()",
                        kind="chart_too_large",
                    ) from exc
                raise
        else:
            raise TypeError(f"Chart needs an altair chart or a Vega-Lite dict, not {type(chart).__name__}")
        if not isinstance(spec, dict):
            raise TypeError("the chart did not produce a Vega-Lite specification (a dict)")
        url = _data_url(spec)
        if url is not None:
            raise InputError(
                f"the chart loads its data from {url!r}, which an offline report cannot do",
                fix="pass the data to altair as a DataFrame so that it is embedded in the specification",
                kind="chart_data_url",
            )
        object.__setattr__(self, "spec", spec)
        _check_str(self.caption, "Chart.caption")
        if self.name is not None:
            _check_key(self.name, "Chart.name")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with the Vega-Lite specification under ``"vega_lite"``."""
        return {"type": "chart", "caption": self.caption, "name": self.name, "vega_lite": self.spec}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chart:
        """Rebuild a chart from :meth:`to_dict` output."""
        return cls(data["vega_lite"], caption=data.get("caption", ""), name=data.get("name"))

    def __repr__(self) -> str:
        return f"Chart(caption={self.caption!r}, name={self.name!r})"


def _data_url(spec: Any) -> str | None:
    """The first ``{"data": {"url": ...}}`` found anywhere in a Vega-Lite spec, if any."""
    if isinstance(spec, dict):
        data = spec.get("data")
        if isinstance(data, dict) and "url" in data:
            return str(data["url"])
        children: Iterable[Any] = spec.values()
    elif isinstance(spec, list):
        children = spec
    else:
        return None
    for child in children:
        url = _data_url(child)
        if url is not None:
            return url
    return None


BlockType = Text | Table | Chart
_BLOCK_TYPES = {"text": Text, "table": Table, "chart": Chart}


# ----------------------------------------------------------------------------- section


@dataclass
class Section:
    """A titled part of a report: blocks in order, then subsections.

    Parameters
    ----------
    title : str
        The heading.
    blocks : list of Text, Table or Chart
        The content; a plain ``str`` is taken as :class:`Text`.
    key : str, optional
        A stable identifier (e.g. ``"overview"``), used as the HTML anchor, the LaTeX label
        and the JSON key. Defaults to a slug of the title. Keys must be unique in a report.
    subsections : list of Section
        Nested sections, rendered after the blocks one heading level down.

    Examples
    --------
    >>> s = Section("Item analysis", ["Items differ in difficulty."])
    >>> s.key, type(s.blocks[0]).__name__
    ('item-analysis', 'Text')
    >>> s.add(Text("More.")).blocks[-1]
    Text(markdown='More.')
    """

    title: str
    blocks: list[BlockType] = field(default_factory=list)
    key: str | None = None
    subsections: list[Section] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_str(self.title, "Section.title")
        self.key = _check_key(_format.slugify(self.title) if self.key is None else self.key, "Section.key")
        self.blocks = [self._block(b) for b in self.blocks]
        self.subsections = list(self.subsections)
        for sub in self.subsections:
            if not isinstance(sub, Section):
                raise TypeError(f"subsections must be Section objects, not {type(sub).__name__}")

    @staticmethod
    def _block(block: Any) -> BlockType:
        if isinstance(block, str):
            return Text(block)
        if not isinstance(block, (Text, Table, Chart)):
            raise TypeError(f"a section block must be Text, Table or Chart, not {type(block).__name__}")
        return block

    def add(self, block: BlockType | Section | str) -> Section:
        """Append a block, or a subsection, and return ``self`` for chaining."""
        if isinstance(block, Section):
            self.subsections.append(block)
        else:
            self.blocks.append(self._block(block))
        return self

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Section]]:
        """This section and all its subsections in document order, with their depth."""
        yield depth, self
        for sub in self.subsections:
            yield from sub.walk(depth + 1)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the section and its subsections."""
        return {
            "key": self.key,
            "title": self.title,
            "blocks": [b.to_dict() for b in self.blocks],
            "subsections": [s.to_dict() for s in self.subsections],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Section:
        """Rebuild a section from :meth:`to_dict` output."""
        blocks: list[BlockType] = []
        for b in data.get("blocks", []):
            kind = b.get("type")
            if kind not in _BLOCK_TYPES:
                raise InputError(
                    f"unknown block type {kind!r} in section {data.get('key')!r}",
                    fix=f"use one of {sorted(_BLOCK_TYPES)}",
                    kind="invalid_report",
                )
            blocks.append(Text(b["markdown"]) if kind == "text" else _BLOCK_TYPES[kind].from_dict(b))
        return cls(
            data["title"],
            blocks,
            key=data.get("key"),
            subsections=[cls.from_dict(s) for s in data.get("subsections", [])],
        )


# -------------------------------------------------------------------------- provenance

_INPUT_FIELDS = ("path", "format", "sha256", "rows")


def sha256_path(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, or of a directory's files.

    A directory's digest covers every regular file below it, in sorted order of their
    relative POSIX paths, as ``relative path``, NUL, ``file digest``, newline.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a.txt").write_bytes(b"abc")
    ...     sha256_path(Path(d) / "a.txt")[:16]
    'ba7816bf8f01cfea'
    """
    p = Path(path)
    if p.is_dir():
        digest = hashlib.sha256()
        for f in sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: f.relative_to(p).as_posix()):
            digest.update(f"{f.relative_to(p).as_posix()}\0{sha256_path(f)}\n".encode())
        return digest.hexdigest()
    if not p.is_file():
        raise InputError(
            f"cannot hash {p}: no such file or directory", file=p, fix="check the path", kind="missing_file"
        )
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _input_record(item: Any) -> dict[str, Any]:
    if isinstance(item, (str, os.PathLike)):
        return {"path": Path(item).as_posix(), "format": None, "sha256": sha256_path(item), "rows": None}
    if isinstance(item, Mapping):
        if "path" not in item:
            raise InputError(
                f"a provenance input needs a 'path', got keys {sorted(item)}",
                fix="pass {'path': ..., 'format': ..., 'sha256': ..., 'rows': ...}",
                kind="invalid_provenance",
            )
        record = {k: item.get(k) for k in _INPUT_FIELDS}
        if isinstance(item["path"], os.PathLike):
            record["path"] = Path(os.fspath(item["path"])).as_posix()
        record.update({k: v for k, v in item.items() if k not in _INPUT_FIELDS})
        return record
    raise TypeError(f"a provenance input must be a path or a dict, not {type(item).__name__}")


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Provenance:
    """Where a report came from: software version, command, time, seed, inputs, parameters, environment.

    Parameters
    ----------
    metabench_version : str
        The metabench version that produced the report.
    command : str or None
        The command line or call that produced it.
    created : str
        Creation time, ISO 8601 in UTC (``"2024-05-01T12:00:00Z"``).
    seed : int or None
        The random seed of the analyses, if any.
    inputs : list of dict
        The input files, each ``{"path", "format", "sha256", "rows"}`` (extra keys kept).
    parameters : dict
        Analysis parameters; values must be JSON-serialisable.
    environment : dict
        The software environment: Python, platform, git commit, package versions and BLAS,
        as :func:`metabench._environment.environment` records it; values must be
        JSON-serialisable. Empty for reports written before it was recorded.

    Examples
    --------
    >>> p = Provenance("0.1.0", "metabench analyze runs/", "2024-05-01T12:00:00Z", 0,
    ...                [{"path": "runs.csv", "sha256": "ab12", "rows": 10}], {"alpha": 0.05},
    ...                {"python": "3.11.7", "packages": {"numpy": "2.4.6"}})
    >>> p.inputs[0]["format"] is None, p.to_dict()["parameters"], p.environment["packages"]
    (True, {'alpha': 0.05}, {'numpy': '2.4.6'})
    """

    metabench_version: str
    command: str | None
    created: str
    seed: int | None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str(self.metabench_version, "Provenance.metabench_version")
        if self.command is not None:
            _check_str(self.command, "Provenance.command")
        try:
            _dt.datetime.fromisoformat(_check_str(self.created, "Provenance.created"))
        except ValueError:
            raise InputError(
                f"Provenance.created {self.created!r} is not an ISO 8601 time",
                fix="use e.g. '2024-05-01T12:00:00Z' (UTC)",
                kind="invalid_provenance",
            ) from None
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"Provenance.seed must be an int or None, not {type(self.seed).__name__}")
        object.__setattr__(self, "inputs", [_input_record(i) for i in self.inputs])
        if not isinstance(self.parameters, Mapping):
            raise TypeError(f"Provenance.parameters must be a dict, not {type(self.parameters).__name__}")
        object.__setattr__(self, "parameters", dict(self.parameters))
        if not isinstance(self.environment, Mapping):
            raise TypeError(f"Provenance.environment must be a dict, not {type(self.environment).__name__}")
        object.__setattr__(self, "environment", copy.deepcopy(dict(self.environment)))

    @classmethod
    def collect(
        cls,
        command: str | None = None,
        seed: int | None = None,
        inputs: Iterable[Mapping[str, Any] | str | os.PathLike[str]] = (),
        parameters: Mapping[str, Any] | None = None,
    ) -> Provenance:
        """Provenance for a report made now by the installed metabench, in this environment.

        Parameters
        ----------
        command : str, optional
            The command line or call that produced the report.
        seed : int, optional
            The random seed of the analyses.
        inputs : iterable of dict or path
            Input records ``{"path", "format", "sha256", "rows"}``; a bare path is hashed
            (see :func:`sha256_path`) with format and rows unknown.
        parameters : dict, optional
            Analysis parameters.

        Notes
        -----
        The environment (Python, platform, git commit of a source checkout, versions of the
        numerical packages, the BLAS and its threads) comes from
        :func:`metabench._environment.environment`.

        Examples
        --------
        >>> p = Provenance.collect(command="metabench analyze data/", seed=1)
        >>> p.created.endswith("Z"), p.seed, p.inputs
        (True, 1, [])
        >>> p.environment["metabench"] == p.metabench_version
        True
        """
        from metabench._environment import environment
        from metabench._version import __version__

        return cls(__version__, command, _utc_now(), seed, list(inputs), dict(parameters or {}), environment())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "metabench_version": self.metabench_version,
            "command": self.command,
            "created": self.created,
            "seed": self.seed,
            "inputs": [dict(i) for i in self.inputs],
            "parameters": dict(self.parameters),
            "environment": copy.deepcopy(self.environment),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Rebuild provenance from :meth:`to_dict` output (``environment`` may be absent: older reports)."""
        return cls(
            data["metabench_version"],
            data.get("command"),
            data["created"],
            data.get("seed"),
            list(data.get("inputs", [])),
            dict(data.get("parameters", {})),
            dict(data.get("environment") or {}),
        )


# ------------------------------------------------------------------------------ report


@dataclass
class Report:
    """A report: title, provenance, notes and sections, rendered to four formats.

    Parameters
    ----------
    title : str
        The report title.
    provenance : Provenance
        Where the report came from; shown at the bottom of every format.
    sections : list of Section
        The content, in order.
    notes : list of str
        Warnings and exclusions shown at the top (inline markdown allowed).

    Examples
    --------
    >>> import polars as pl
    >>> prov = Provenance("0.1.0", None, "2024-05-01T12:00:00Z", None, [], {})
    >>> r = Report("Demo", prov, notes=["1 item excluded: nobody answered it."])
    >>> _ = r.add(Section("Overview", [Text("Two models."),
    ...                                Table(pl.DataFrame({"model": ["a", "b"], "acc": [0.5, 0.75]}))]))
    >>> print(r.to_markdown().split("## Provenance")[0].strip())
    # Demo
    <BLANKLINE>
    > **Notes**
    >
    > - 1 item excluded: nobody answered it.
    <BLANKLINE>
    ## Overview
    <BLANKLINE>
    Two models.
    <BLANKLINE>
    | model | acc |
    | :--- | ---: |
    | a | 0.500 |
    | b | 0.750 |
    >>> Report.from_json(r.to_json()).to_json() == r.to_json()
    True
    """

    FORMATS: ClassVar[dict[str, str]] = {
        "html": "index.html",
        "md": "report.md",
        "tex": "report.tex",
        "json": "report.json",
    }

    title: str
    provenance: Provenance
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_str(self.title, "Report.title")
        if not isinstance(self.provenance, Provenance):
            raise TypeError("Report.provenance must be a Provenance; make one with Provenance.collect(...)")
        if isinstance(self.notes, str):
            raise TypeError("Report.notes must be a list of str, not one str")
        self.notes = [_check_str(n, "a report note") for n in self.notes]
        sections, self.sections = list(self.sections), []
        for section in sections:
            self.add(section)

    def add(self, section: Section) -> Report:
        """Append a section and return ``self`` for chaining.

        Raises
        ------
        InputError
            If a section key in ``section`` is already used in the report.
        """
        if not isinstance(section, Section):
            raise TypeError(f"Report.add takes a Section, not {type(section).__name__}")
        used = {s.key: s.title for _, s in self.walk()}
        for _, s in section.walk():
            if s.key in used:
                raise InputError(
                    f"section key {s.key!r} is used twice (by {used[s.key]!r} and {s.title!r})",
                    fix="give one of the sections an explicit, unique key=...",
                    kind="duplicate_key",
                )
            used[s.key] = s.title
        self.sections.append(section)
        return self

    def walk(self) -> Iterator[tuple[int, Section]]:
        """Every section and subsection in document order, with depth (0 = top level)."""
        for section in self.sections:
            yield from section.walk(0)

    # -------------------------------------------------------------------- renderers

    def to_html(self) -> str:
        """One self-contained HTML page that works offline.

        Vega, Vega-Lite and vega-embed are inlined once per page (only when the report
        has charts); charts are drawn as SVG when the page is opened.
        """
        from metabench.report._html import render_html

        return render_html(self)

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown; charts appear as their captions with a note."""
        from metabench.report._markdown import render_markdown

        return render_markdown(self)

    def to_latex(self) -> str:
        """A standalone LaTeX document (pdflatex) with booktabs tables; charts are omitted
        with a note."""
        from metabench.report._latex import render_latex

        return render_latex(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form as Python objects (see :meth:`to_json`)."""
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "title": self.title,
            "provenance": self.provenance.to_dict(),
            "notes": list(self.notes),
            "sections": [s.to_dict() for s in self.sections],
        }

    def to_json(self) -> str:
        """The report as versioned JSON (``"schema": "metabench.report"``).

        Tables keep full-precision values with NaN as ``null``; charts keep their
        Vega-Lite specification. The text is strict JSON (:func:`json.loads` reads it).
        """
        return _format.dumps(self.to_dict(), indent=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_dict` output."""
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            raise InputError(
                "not a metabench report: the 'schema' field is missing or is not 'metabench.report'",
                fix="pass the text of a report.json written by Report.to_json()",
                kind="invalid_report",
            )
        version = data.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise InputError(
                f"report schema_version {version!r} is not supported (this metabench reads up to {SCHEMA_VERSION})",
                fix="upgrade metabench",
                kind="unsupported_version",
            )
        try:
            return cls(
                data["title"],
                Provenance.from_dict(data["provenance"]),
                [Section.from_dict(s) for s in data.get("sections", [])],
                list(data.get("notes", [])),
            )
        except KeyError as exc:
            raise InputError(
                f"the report JSON lacks the required field {exc.args[0]!r}",
                fix="pass the text of a report.json written by Report.to_json()",
                kind="invalid_report",
            ) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        """Read a report from the text written by :meth:`to_json`."""
        import orjson

        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"the report JSON is not valid JSON: {exc}", kind="invalid_json") from None
        return cls.from_dict(data)

    def save(
        self, out_dir: str | os.PathLike[str], formats: Sequence[str] = ("html", "md", "tex", "json")
    ) -> dict[str, Path]:
        """Write the report to ``out_dir`` in the given formats.

        Parameters
        ----------
        out_dir : str or Path
            The directory; created if missing.
        formats : sequence of str
            Any of ``"html"`` (``index.html``), ``"md"`` (``report.md``), ``"tex"``
            (``report.tex``) and ``"json"`` (``report.json``). ``"markdown"`` and ``"latex"``
            are accepted as aliases.

        Returns
        -------
        dict of str to Path
            The written file of each format.
        """
        aliases = {"markdown": "md", "latex": "tex", "htm": "html"}
        if isinstance(formats, str):
            formats = [f.strip() for f in formats.split(",") if f.strip()]
        wanted = [aliases.get(f.lower(), f.lower()) for f in formats]
        unknown = [f for f in wanted if f not in self.FORMATS]
        if unknown:
            raise InputError(
                f"unknown report format(s) {unknown}",
                fix=f"use any of {sorted(self.FORMATS)}",
                kind="unknown_format",
            )
        render = {"html": self.to_html, "md": self.to_markdown, "tex": self.to_latex, "json": self.to_json}
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for fmt in dict.fromkeys(wanted):
            path = out / self.FORMATS[fmt]
            path.write_text(render[fmt](), encoding="utf-8")
            written[fmt] = path
        return written

    # ------------------------------------------------------------------------ display

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"Report({self.title!r}, sections={[s.key for s in self.sections]}, notes={len(self.notes)})"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
