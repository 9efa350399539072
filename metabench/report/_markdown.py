"""GitHub-flavoured Markdown renderer: headings, pipe tables, charts as captions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metabench._environment import describe as describe_environment
from metabench.report import _format
from metabench.report._markup import escape_markdown

if TYPE_CHECKING:
    from metabench.report._model import Chart, Report, Section, Table

__all__ = ["MISSING", "pipe_table", "render_markdown"]

MISSING = "\u2014"
"""How a missing table cell is shown (an em dash)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def pipe_table(header: list[str], rows: list[list[str]], numeric: list[bool]) -> str:
    """A GitHub pipe table from plain-text cells (escaped here); numbers right-aligned.

    Examples
    --------
    >>> print(pipe_table(["model", "acc"], [["a|b", "0.5"]], [False, True]))
    | model | acc |
    | :--- | ---: |
    | a\\|b | 0.5 |
    """

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) if c else " " for c in cells) + " |"

    align = "| " + " | ".join("---:" if n else ":---" for n in numeric) + " |"
    return "\n".join([line(header), align, *(line(r) for r in rows)])


class _Renderer:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.tables = 0
        self.figures = 0

    def table(self, table: Table) -> str:
        self.tables += 1
        out = []
        if table.caption:
            out.append(f"**Table {self.tables}.** {_one_line(table.caption)}\n")
        if table.frame.width == 0:
            out.append("*(empty table)*")
        else:
            out.append(pipe_table(table.columns, table.cells(MISSING), table.numeric))
        if table.notes:
            out.append(f"\n*Note:* {_one_line(table.notes)}")
        return "\n".join(out)

    def chart(self, chart: Chart) -> str:
        self.figures += 1
        caption = f" {_one_line(chart.caption)}" if chart.caption else ""
        return f"**Figure {self.figures}.**{caption} *(chart: see the HTML report)*"

    def section(self, section: Section, depth: int) -> list[str]:
        from metabench.report._model import Chart, Table, Text

        out = ["#" * min(depth + 2, 6) + " " + escape_markdown(section.title)]
        for block in section.blocks:
            if isinstance(block, Text):
                if block.markdown.strip():
                    out.append(block.markdown.strip())
            elif isinstance(block, Table):
                out.append(self.table(block))
            elif isinstance(block, Chart):
                out.append(self.chart(block))
        for sub in section.subsections:
            out += self.section(sub, depth + 1)
        return out

    def provenance(self) -> list[str]:
        p = self.report.provenance
        out = ["## Provenance"]
        facts = [
            f"- metabench: {escape_markdown(p.metabench_version)}",
            f"- Command: `{p.command}`" if p.command else f"- Command: {MISSING}",
            f"- Created: {p.created}",
            f"- Seed: {MISSING if p.seed is None else p.seed}",
        ]
        out.append("\n".join(facts))
        if p.inputs:
            rows = [
                [
                    str(i.get("path")),
                    str(i["format"]) if i.get("format") else MISSING,
                    MISSING if i.get("rows") is None else str(i["rows"]),
                    str(i["sha256"]) if i.get("sha256") else MISSING,
                ]
                for i in p.inputs
            ]
            out.append(
                "**Inputs**\n\n" + pipe_table(["path", "format", "rows", "sha256"], rows, [False, False, True, False])
            )
        if p.parameters:
            rows = [[str(k), v if isinstance(v, str) else _format.dumps(v)] for k, v in p.parameters.items()]
            out.append("**Parameters**\n\n" + pipe_table(["parameter", "value"], rows, [False, False]))
        environment = describe_environment(p.environment)
        if environment:
            out.append(
                "**Environment**\n\n"
                + "\n".join(f"- {escape_markdown(k)}: {escape_markdown(v)}" for k, v in environment)
            )
        return out

    def render(self) -> str:
        r = self.report
        out = ["# " + escape_markdown(r.title)]
        if r.notes:
            out.append("> **Notes**\n>\n" + "\n".join(f"> - {_one_line(n)}" for n in r.notes))
        for section in r.sections:
            out += self.section(section, 0)
        out += self.provenance()
        return "\n\n".join(out) + "\n"


def render_markdown(report: Report) -> str:
    """Render ``report`` as GitHub-flavoured Markdown (see :meth:`Report.to_markdown`)."""
    return _Renderer(report).render()
