"""HTML renderer: one self-contained page that works offline.

Charts are embedded the way altair's ``inline`` HTML template does it
(``altair/utils/html.py``): the vega-embed bundle from ``vl_convert.javascript_bundle``
(vega-embed with Vega and Vega-Lite) goes into a ``<script>`` element — here once per
page rather than once per chart — and each chart is drawn into its own ``<div>`` by
``vegaEmbed``. Nothing is loaded from the network.
"""

from __future__ import annotations

import functools
import html
from importlib import resources
from typing import TYPE_CHECKING, Any

from metabench._environment import describe as describe_environment
from metabench.report import _format
from metabench.report._markup import blocks_to_html, inline_to_html, parse_inline

if TYPE_CHECKING:
    from metabench.report._model import Chart, Report, Section, Table

__all__ = ["MISSING", "render_html", "vega_bundle"]

MISSING = "\u2014"
"""How a missing table cell is shown (an em dash)."""

_NUM_CLASS = ' class="num"'

EMBED_OPTIONS: dict[str, Any] = {"actions": False, "renderer": "svg"}
"""Options passed to ``vegaEmbed`` for every chart."""


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """The vega-embed + Vega + Vega-Lite JavaScript bundle, made by vl-convert.

    The Vega-Lite version matches the one altair writes specifications for, as in
    altair's own inline template; the bundle defines ``window.vegaEmbed``.
    """
    import vl_convert

    try:
        from altair.utils._importers import vl_version_for_vl_convert

        vl_version: str | None = vl_version_for_vl_convert()
    except (ImportError, AttributeError):  # altair without this helper: vl-convert's newest Vega-Lite
        vl_version = None
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    # A literal "</script" inside the code would end the element early.
    return bundle.replace("</script", "<\\/script")


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The page's CSS (``templates/report.css``)."""
    return resources.files("metabench.report").joinpath("templates/report.css").read_text(encoding="utf-8")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _inline(text: str) -> str:
    return inline_to_html(parse_inline(text))


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = _format.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Renderer:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.ids: set[str] = set()
        self.tables = 0
        self.figures = 0
        self.charts: dict[str, dict[str, Any]] = {}

    def unique_id(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{wanted}-{n}"
        self.ids.add(candidate)
        return candidate

    # ------------------------------------------------------------------ blocks

    def table(self, table: Table, section_key: str) -> str:
        self.tables += 1
        table_id = self.unique_id(f"table-{table.label}" if table.label else f"{section_key}-table-{self.tables}")
        numeric = table.numeric
        out = [f'<figure class="table" id="{_esc(table_id)}">']
        out.append('<div class="table-wrap"><table>')
        if table.caption:
            out.append(f'<caption><span class="label">Table {self.tables}.</span> {_inline(table.caption)}</caption>')
        head = "".join(
            f'<th scope="col"{_NUM_CLASS if num else ""}>{_esc(name)}</th>' for name, num in zip(table.columns, numeric)
        )
        out.append(f"<thead><tr>{head}</tr></thead>")
        out.append("<tbody>")
        for row in table.cells(MISSING):
            cells = []
            for value, num in zip(row, numeric):
                classes = [c for c, on in (("num", num), ("na", value == MISSING)) if on]
                attr = f' class="{" ".join(classes)}"' if classes else ""
                cells.append(f"<td{attr}>{_esc(value)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table></div>")
        if table.frame.width == 0:
            out.append('<p class="table-notes">(empty table)</p>')
        if table.notes:
            out.append(f'<p class="table-notes"><span class="label">Note:</span> {_inline(table.notes)}</p>')
        out.append("</figure>")
        return "\n".join(out)

    def chart(self, chart: Chart, section_key: str) -> str:
        self.figures += 1
        chart_id = self.unique_id(f"chart-{chart.name}" if chart.name else f"{section_key}-chart-{self.figures}")
        self.charts[chart_id] = chart.spec
        caption = f'<span class="label">Figure {self.figures}.</span> {_inline(chart.caption)}' if chart.caption else ""
        return (
            '<figure class="chart">\n'
            f'<div class="chart-body" id="{_esc(chart_id)}" role="img" aria-label="{_esc(chart.caption or "chart")}"></div>\n'
            + (f"<figcaption>{caption}</figcaption>\n" if caption else "")
            + "</figure>"
        )

    def section(self, section: Section, depth: int, section_id: str) -> str:
        from metabench.report._model import Chart, Table, Text

        level = min(depth + 2, 6)
        out = [f'<section id="{_esc(section_id)}">', f"<h{level}>{_esc(section.title)}</h{level}>"]
        for block in section.blocks:
            if isinstance(block, Text):
                out.append(blocks_to_html(block.blocks))
            elif isinstance(block, Table):
                out.append(self.table(block, section_id))
            elif isinstance(block, Chart):
                out.append(self.chart(block, section_id))
        for sub in section.subsections:
            out.append(self.section(sub, depth + 1, self.section_ids[id(sub)]))
        out.append("</section>")
        return "\n".join(out)

    # ------------------------------------------------------------------ page parts

    def toc(self) -> str:
        def items(sections: list[Section]) -> str:
            lis = []
            for s in sections:
                sub = f"<ol>{items(s.subsections)}</ol>" if s.subsections else ""
                lis.append(f'<li><a href="#{_esc(self.section_ids[id(s)])}">{_esc(s.title)}</a>{sub}</li>')
            return "".join(lis)

        if not self.report.sections:
            return ""
        return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items(self.report.sections)}</ol></nav>'

    def notes(self) -> str:
        if not self.report.notes:
            return ""
        lis = "".join(f"<li>{_inline(n)}</li>" for n in self.report.notes)
        return f'<aside class="notes" role="note"><h2>Notes</h2><ul>{lis}</ul></aside>'

    def provenance(self) -> str:
        p = self.report.provenance
        rows = [
            ("metabench", _esc(p.metabench_version)),
            ("Command", f"<code>{_esc(p.command)}</code>" if p.command else MISSING),
            ("Created", f'<time datetime="{_esc(p.created)}">{_esc(p.created)}</time>'),
            ("Seed", MISSING if p.seed is None else str(p.seed)),
        ]
        out = ['<footer class="provenance" id="provenance">', "<h2>Provenance</h2>", "<dl>"]
        out += [f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows]
        out.append("</dl>")
        if p.inputs:
            out.append("<h3>Inputs</h3>")
            out.append('<div class="table-wrap"><table class="inputs">')
            out.append('<thead><tr><th scope="col">Path</th><th scope="col">Format</th>'
                       '<th scope="col" class="num">Rows</th><th scope="col">SHA-256</th></tr></thead><tbody>')  # fmt: skip
            for item in p.inputs:
                cells = [
                    f"<td><code>{_esc(str(item.get('path')))}</code></td>",
                    f"<td>{_esc(str(item['format'])) if item.get('format') else MISSING}</td>",
                    f'<td class="num">{MISSING if item.get("rows") is None else _esc(str(item["rows"]))}</td>',
                    f'<td class="hash"><code>{_esc(str(item["sha256"])) if item.get("sha256") else MISSING}</code></td>',
                ]
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table></div>")
        if p.parameters:
            out.append("<h3>Parameters</h3>")
            out.append('<div class="table-wrap"><table class="parameters"><tbody>')
            for name, value in p.parameters.items():
                shown = value if isinstance(value, str) else _format.dumps(value)
                out.append(f'<tr><th scope="row">{_esc(str(name))}</th><td><code>{_esc(shown)}</code></td></tr>')
            out.append("</tbody></table></div>")
        environment = describe_environment(p.environment)
        if environment:
            out.append("<h3>Environment</h3>")
            out.append('<dl class="environment">')
            out += [f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in environment]
            out.append("</dl>")
        out.append("</footer>")
        return "\n".join(out)

    def scripts(self) -> str:
        if not self.charts:
            return ""
        # The bundle first, then the specs as inert JSON, then one small loop that draws
        # every chart; <body data-charts="ready"> marks the end (errors are shown in place).
        embed = f"""\
(function () {{
  "use strict";
  var specs = JSON.parse(document.getElementById("metabench-chart-specs").textContent);
  var options = {_json_for_script(EMBED_OPTIONS)};
  var pending = Object.keys(specs).map(function (id) {{
    var el = document.getElementById(id);
    return vegaEmbed(el, specs[id], options).catch(function (err) {{
      el.classList.add("chart-error");
      el.textContent = "This chart could not be drawn: " + err;
      console.error(err);
    }});
  }});
  Promise.all(pending).then(function () {{ document.body.setAttribute("data-charts", "ready"); }});
}})();"""
        return (
            "<script>\n// vega-embed bundle (Vega, Vega-Lite and vega-embed) made by vl-convert\n"
            + vega_bundle()
            + "\n</script>\n"
            + f'<script type="application/json" id="metabench-chart-specs">{_json_for_script(self.charts)}</script>\n'
            + f"<script>\n{embed}\n</script>"
        )

    def render(self) -> str:
        r = self.report
        self.ids.update({"provenance", "metabench-chart-specs", "top"})
        self.section_ids = {id(s): self.unique_id(s.key) for _, s in r.walk()}
        body = "\n".join(self.section(s, 0, self.section_ids[id(s)]) for s in r.sections)
        p = r.provenance
        meta = f"Generated by metabench {_esc(p.metabench_version)} on {_esc(p.created)}"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="metabench {_esc(p.metabench_version)}">',
            f"<title>{_esc(r.title)}</title>",
            '<link rel="icon" href="data:,">',
            f"<style>\n{stylesheet()}</style>",
            "</head>",
            '<body id="top">',
            '<div class="page">',
            f'<header class="title"><h1>{_esc(r.title)}</h1><p class="meta">{meta}</p></header>',
            self.notes(),
            self.toc(),
            f"<main>\n{body}\n</main>",
            self.provenance(),
            "</div>",
            self.scripts(),
            "</body>",
            "</html>",
        ]
        return "\n".join(p for p in parts if p) + "\n"


def render_html(report: Report) -> str:
    """Render ``report`` as one self-contained HTML page (see :meth:`Report.to_html`)."""
    return _Renderer(report).render()
