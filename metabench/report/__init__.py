"""Reports: one object rendered to HTML, Markdown, LaTeX and JSON.

A :class:`Report` holds a title, :class:`Provenance`, notes (warnings and exclusions shown
first) and :class:`Section` objects made of :class:`Text`, :class:`Table` and
:class:`Chart` blocks. Like statsmodels' ``Summary``, the same object renders every format:

- :meth:`Report.to_html` — one self-contained page that works offline (Vega inlined);
- :meth:`Report.to_markdown` — GitHub-flavoured Markdown;
- :meth:`Report.to_latex` — a standalone pdflatex document with booktabs tables;
- :meth:`Report.to_json` — versioned JSON (``"schema": "metabench.report"``), read back by
  :meth:`Report.from_json`;
- :meth:`Report.save` — all of them into a directory.

Examples
--------
>>> import polars as pl
>>> from metabench.report import Provenance, Report, Section, Table, Text
>>> report = Report("Accuracy", Provenance.collect(seed=0))
>>> _ = report.add(Section("Results", [
...     Text("Model **b** is ahead."),
...     Table(pl.DataFrame({"model": ["a", "b"], "accuracy": [0.61, 0.7049]}), caption="Mean accuracy"),
... ], key="results"))
>>> print(report.to_markdown().split("## Provenance")[0].strip())
# Accuracy
<BLANKLINE>
## Results
<BLANKLINE>
Model **b** is ahead.
<BLANKLINE>
**Table 1.** Mean accuracy
<BLANKLINE>
| model | accuracy |
| :--- | ---: |
| a | 0.610 |
| b | 0.705 |
"""

from __future__ import annotations

from metabench.report._model import (
    SCHEMA,
    SCHEMA_VERSION,
    Chart,
    Provenance,
    Report,
    Section,
    Table,
    Text,
    sha256_path,
)

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Chart",
    "Provenance",
    "Report",
    "Section",
    "Table",
    "Text",
    "sha256_path",
]
