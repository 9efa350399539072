"""LaTeX renderer: a standalone pdflatex document with booktabs tables.

Short tables are floats (``table`` + ``tabular``, shrunk to the text width if wider);
tables longer than :data:`LONGTABLE_ROWS` rows use ``longtable`` so that they break across
pages with the header repeated. Charts are omitted with a note pointing to the HTML report.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from metabench._environment import describe as describe_environment
from metabench.report import _format
from metabench.report._markup import blocks_to_latex, escape_latex, inline_to_latex, parse_inline

if TYPE_CHECKING:
    from metabench.report._model import Chart, Report, Section, Table

__all__ = ["INPUTS_LONGTABLE", "LONGTABLE_ROWS", "MISSING", "PREAMBLE", "render_latex"]

MISSING = "--"
"""How a missing table cell is shown (an en dash in print)."""

LONGTABLE_ROWS = 40
"""Tables with more rows than this are typeset as ``longtable``."""

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}
\usepackage{textcomp}
\usepackage[margin=2.5cm]{geometry}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{array}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
"""
"""Packages every rendered document loads (all in TeX Live's latex-base/recommended)."""

# Inputs table: wrapping path and digest columns so that 64-digit digests fit the page.
INPUTS_LONGTABLE = (
    r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{0.3\linewidth}lr"
    r">{\raggedright\arraybackslash\ttfamily}p{0.4\linewidth}@{}}"
)

_SECTIONING = (r"\section", r"\subsection", r"\subsubsection", r"\paragraph", r"\subparagraph")


def _inline(text: str) -> str:
    return inline_to_latex(parse_inline(" ".join(text.split())))


def _cell(text: str, numeric: bool) -> str:
    if text == MISSING:
        return MISSING  # printed as an en dash on purpose
    escaped = escape_latex(text)
    if numeric and text.startswith("-"):
        return r"\ensuremath{-}" + escaped[1:]  # a real minus sign, not a hyphen
    return escaped


def _label(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9:._-]", "-", key)


class _Renderer:
    def __init__(self, report: Report) -> None:
        self.report = report

    def table(self, table: Table) -> str:
        columns, numeric = table.columns, table.numeric
        if not columns:
            return r"\begin{center}\emph{(empty table)}\end{center}"
        spec = "".join("r" if n else "l" for n in numeric)
        head = " & ".join(escape_latex(c) for c in columns) + r" \\"
        body = [" & ".join(_cell(c, n) for c, n in zip(row, numeric)) + r" \\" for row in table.cells(MISSING)]
        size = r"\small" if len(columns) > 6 else ""
        caption = r"\caption{" + _inline(table.caption) + "}" if table.caption or table.label else ""
        label = r"\label{tab:" + _label(table.label) + "}" if table.label else ""
        notes = (r"\par\smallskip{\footnotesize\emph{Note:} " + _inline(table.notes) + "}") if table.notes else ""

        if len(body) > LONGTABLE_ROWS:
            n = len(columns)
            out = [size + r"\begin{longtable}{" + spec + "}"] if size else [r"\begin{longtable}{" + spec + "}"]
            if caption:
                out.append(caption + label + r" \\")
            out += [r"\toprule", head, r"\midrule", r"\endfirsthead"]
            out += [
                r"\multicolumn{" + str(n) + r"}{l}{\emph{(continued)}} \\",
                r"\toprule",
                head,
                r"\midrule",
                r"\endhead",
            ]
            out += [r"\midrule", r"\multicolumn{" + str(n) + r"}{r}{\emph{(continued on next page)}} \\", r"\endfoot"]
            out += [r"\bottomrule", r"\endlastfoot"]
            out += body
            out.append(r"\end{longtable}")
            if size:
                out.append(r"\normalsize")
            if notes:
                out.append(notes.removeprefix(r"\par\smallskip"))
            return "\n".join(out)

        out = [r"\begin{table}[htbp]", r"\centering"]
        if size:
            out.append(size)
        if caption:
            out.append(caption + label)
        # Shrink the tabular to the text width only when it would overflow it.
        out.append(r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%")
        out += [
            r"\begin{tabular}{" + spec + "}",
            r"\toprule",
            head,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}}",
        ]
        if notes:
            out.append(notes)
        out.append(r"\end{table}")
        return "\n".join(out)

    def chart(self, chart: Chart) -> str:
        caption = (": " + _inline(chart.caption)) if chart.caption else ""
        return r"\begin{center}\emph{Chart omitted" + caption + r" (see the HTML report).}\end{center}"

    def section(self, section: Section, depth: int) -> str:
        from metabench.report._model import Chart, Table, Text

        command = _SECTIONING[min(depth, len(_SECTIONING) - 1)]
        out = [command + "{" + escape_latex(section.title) + r"}\label{sec:" + _label(section.key or "") + "}"]
        for block in section.blocks:
            if isinstance(block, Text):
                out.append(blocks_to_latex(block.blocks))
            elif isinstance(block, Table):
                out.append(self.table(block))
            elif isinstance(block, Chart):
                out.append(self.chart(block))
        out += [self.section(sub, depth + 1) for sub in section.subsections]
        return "\n\n".join(out)

    def provenance(self) -> str:
        p = self.report.provenance
        out = [r"\section*{Provenance}", r"\begin{description}"]
        out.append(r"\item[metabench] " + escape_latex(p.metabench_version))
        out.append(r"\item[Command] " + (r"\texttt{" + escape_latex(p.command) + "}" if p.command else MISSING))
        out.append(r"\item[Created] " + escape_latex(p.created))
        out.append(r"\item[Seed] " + (MISSING if p.seed is None else str(p.seed)))
        out.append(r"\end{description}")
        if p.inputs:
            out.append(r"\subsection*{Inputs}")
            rows = []
            for item in p.inputs:
                # Let long paths break after each slash.
                path = escape_latex(str(item.get("path"))).replace("/", r"/\allowbreak{}")
                fmt = escape_latex(str(item["format"])) if item.get("format") else MISSING
                n = MISSING if item.get("rows") is None else str(item["rows"])
                # A digest is 64 hex digits: allow a break every 16 so that it fits the page.
                hexdigest = escape_latex(str(item["sha256"])) if item.get("sha256") else ""
                digest = r"\allowbreak{}".join(hexdigest[i : i + 16] for i in range(0, len(hexdigest), 16)) or MISSING
                rows.append(f"{path} & {fmt} & {n} & {digest} \\\\")
            out += [
                r"{\footnotesize",
                INPUTS_LONGTABLE,
                r"\toprule",
                r"Path & Format & Rows & SHA-256 \\",
                r"\midrule",
                r"\endhead",
                r"\bottomrule",
                r"\endlastfoot",
                *rows,
                r"\end{longtable}}",
            ]
        if p.parameters:
            out.append(r"\subsection*{Parameters}")
            out.append(r"\begin{description}")
            for name, value in p.parameters.items():
                shown = value if isinstance(value, str) else _format.dumps(value)
                out.append(r"\item[" + escape_latex(str(name)) + r"] \texttt{" + escape_latex(shown) + "}")
            out.append(r"\end{description}")
        environment = describe_environment(p.environment)
        if environment:
            out += [r"\subsection*{Environment}", r"{\footnotesize", r"\begin{description}"]
            out += [r"\item[" + escape_latex(k) + "] " + escape_latex(v) for k, v in environment]
            out += [r"\end{description}}"]
        return "\n".join(out)

    def render(self) -> str:
        r = self.report
        p = r.provenance
        out = [
            PREAMBLE,
            r"\title{" + escape_latex(r.title) + "}",
            r"\author{}",
            r"\date{Generated by metabench "
            + escape_latex(p.metabench_version)
            + " on "
            + escape_latex(p.created)
            + "}",
            "",
            r"\begin{document}",
            r"\maketitle",
            "",
        ]
        if r.notes:
            items = "\n".join(r"  \item " + _inline(n) for n in r.notes)
            out += [r"\paragraph{Notes}", r"\begin{itemize}", items, r"\end{itemize}", ""]
        for section in r.sections:
            out += [self.section(section, 0), ""]
        out += [self.provenance(), "", r"\end{document}"]
        return "\n".join(out) + "\n"


def render_latex(report: Report) -> str:
    """Render ``report`` as a standalone LaTeX document (see :meth:`Report.to_latex`)."""
    return _Renderer(report).render()
