"""Tests of the report model and its HTML, Markdown, LaTeX and JSON renderers.

The shared report (``conftest.make_report``) has text with markup, a table with a NaN, a
null, floats of very different sizes and every LaTeX special character, and two altair
charts (a heat-map and a bar chart with error bars).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess

import pandas as pd
import polars as pl
import pytest

from metabench.errors import InputError
from metabench.report import Chart, Provenance, Report, Section, Table, Text, _format, _markup, sha256_path

VEGA_MARKER = "window.vegaEmbed="  # defined once by the vl-convert bundle


# ---------------------------------------------------------------------------------- HTML


def _specs(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="metabench-chart-specs">(.*?)</script>', page, re.DOTALL)
    assert m is not None
    return json.loads(m.group(1))


def test_html_is_offline_and_inlines_vega_once(report: Report) -> None:
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    # No resource is loaded from anywhere: no script src, no stylesheet or icon URL.
    assert re.findall(r"<script[^>]*\bsrc=", page) == []
    links = re.findall(r"<link[^>]*>", page)
    assert links == ['<link rel="icon" href="data:,">']
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace('<a href="https://example.org/docs">', ""))
    assert "cdn.jsdelivr" not in page
    # The Vega/Vega-Lite/vega-embed bundle appears exactly once for two charts.
    assert page.count(VEGA_MARKER) == 1
    assert page.count("<script") == 3  # bundle, chart specs, embed loop
    assert "</script" not in page.split("<script>", 1)[1].split("\n</script>", 1)[0]


def test_html_chart_divs_and_specs(report: Report) -> None:
    page = report.to_html()
    specs = _specs(page)
    assert list(specs) == ["chart-heatmap", "charts-chart-2"]
    assert specs["chart-heatmap"]["mark"] == {"type": "rect"}
    assert [layer["mark"]["type"] for layer in specs["charts-chart-2"]["layer"]] == ["bar", "errorbar"]
    for chart_id in specs:
        assert f'<div class="chart-body" id="{chart_id}"' in page
    assert '{"actions":false,"renderer":"svg"}' in page
    assert '<figcaption><span class="label">Figure 1.</span> Accuracy heat-map</figcaption>' in page


def test_html_content(report: Report) -> None:
    page = report.to_html()
    assert "<title>Model comparison: 50% &amp; more</title>" in page
    assert "<strong>three</strong>" in page and "<em>four</em>" in page and "<code>metabench analyze</code>" in page
    assert '<a href="https://example.org/docs">docs</a>' in page
    assert "<ul><li>accuracy is the mean item score</li><li>intervals are 95%</li></ul>" in page
    # The table: missing as an em dash, numbers right-aligned, specials escaped.
    row = (
        '<tr><td>mistral_7b</td><td>arc#1</td><td class="num na">\u2014</td>'
        '<td class="num">0.045</td><td class="num">1172</td></tr>'
    )
    assert row in page
    assert '<td class="num">3.20e-08</td>' in page
    assert "<td>gpt_4 &amp; co</td>" in page
    assert '<figure class="table" id="table-scores">' in page
    # Table of contents links to the section anchors, notes come first, provenance last.
    assert '<li><a href="#charts">Charts</a><ol><li><a href="#charts-details">Details</a></li></ol></li>' in page
    assert (
        page.index('class="notes"')
        < page.index('<nav class="toc"')
        < page.index("<main>")
        < page.index('id="provenance"')
    )
    assert "<li>1 item excluded from <code>mmlu</code>: nobody answered it.</li>" in page
    assert "<code>" + "ab" * 32 + "</code>" in page and ">12345</td>" in page


def test_html_escapes_raw_markup(provenance: Provenance) -> None:
    r = Report("<b>t</b>", provenance, [Section("S <i>", [Text("<script>alert(1)</script> [x](javascript:alert(1))")])])
    page = r.to_html()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page
    assert "<h1>&lt;b&gt;t&lt;/b&gt;</h1>" in page and "<h2>S &lt;i&gt;</h2>" in page


def test_html_without_charts_has_no_javascript(provenance: Provenance) -> None:
    page = Report("No charts", provenance, [Section("Only text", ["hello"])]).to_html()
    assert "<script" not in page and VEGA_MARKER not in page
    assert len(page) < 20_000


def test_chart_spec_cannot_close_the_script_element(provenance: Provenance) -> None:
    spec = {"mark": "point", "title": "</script><script>alert(1)</script>", "data": {"values": [{"x": 1}]}}
    page = Report("t", provenance, [Section("s", [Chart(spec)])]).to_html()
    assert "</script><script>alert" not in page
    assert _specs(page)["s-chart-1"]["title"] == spec["title"]


# ------------------------------------------------------------------------------ Markdown


def _split_row(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_markdown_pipe_table(report: Report, results_frame: pl.DataFrame) -> None:
    md = report.to_markdown()
    start = md.index("| model | benchmark |")
    lines = md[start:].split("\n\n")[0].splitlines()
    assert len(lines) == 2 + results_frame.height  # header, alignment, 4 rows
    assert all(len(_split_row(line)) == results_frame.width for line in lines)
    assert lines[1] == "| :--- | :--- | ---: | ---: | ---: |"
    assert lines[2] == "| llama-3-8b | mmlu_5% | 0.665 | 3.20e-08 | 14042 |"
    assert lines[3] == "| mistral_7b | arc#1 | \u2014 | 0.045 | 1172 |"
    assert lines[5] == "| gpt_4 & co | cost: \\$5 \\~ ^x \\\\ y | \u2014 | 1.000 | 0 |"
    assert "**Table 1.** Scores and *p*-values" in md
    assert "*Note:* NaN and null are both missing; p_value < 0.05 is significant." in md


def test_markdown_structure(report: Report) -> None:
    md = report.to_markdown()
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == ["# Model comparison: 50% & more", "## Overview", "## Charts", "### Details", "## Provenance"]
    assert "**Figure 1.** Accuracy heat-map *(chart: see the HTML report)*" in md
    assert "**Figure 2.** Mean accuracy with 95% intervals *(chart: see the HTML report)*" in md
    assert "> - 1 item excluded from `mmlu`: nobody answered it." in md
    assert "| data/runs/lm_eval_results.jsonl | lm-eval | 12345 | " + "ab" * 32 + " |" in md
    assert str(report) == md


def test_markdown_pipe_in_cell_is_escaped(provenance: Provenance) -> None:
    frame = pl.DataFrame({"a|b": ["x|y"], "n": [1]})
    md = Report("t", provenance, [Section("s", [Table(frame)])]).to_markdown()
    assert "| a\\|b | n |\n| :--- | ---: |\n| x\\|y | 1 |" in md


# --------------------------------------------------------------------------------- LaTeX


def test_latex_booktabs_and_escaping(report: Report) -> None:
    tex = report.to_latex()
    assert tex.startswith("\\documentclass[11pt]{article}")
    assert tex.rstrip().endswith("\\end{document}")
    for package in ("booktabs", "longtable", "hyperref"):
        assert f"{package}}}" in tex
    table = tex[tex.index("\\begin{table}") : tex.index("\\end{table}")]
    assert table.index("\\toprule") < table.index("\\midrule") < table.index("\\bottomrule")
    assert "\\caption{Scores and \\emph{p}-values}\\label{tab:scores}" in table
    assert "model & benchmark & accuracy & p\\_value & n\\_items \\\\" in table
    assert "\\begin{tabular}{llrrr}" in table
    assert "llama-3-8b & mmlu\\_5\\% & 0.665 & 3.20e-08 & 14042 \\\\" in table
    assert "mistral\\_7b & arc\\#1 & -- & 0.045 & 1172 \\\\" in table
    assert "qwen2-7b & \\{gsm8k\\} & 0.705 & 0.500 & 1319 \\\\" in table
    specials = (
        "gpt\\_4 \\& co & cost: \\$5 \\textasciitilde{} \\textasciicircum{}x \\textbackslash{} y & -- & 1.000 & 0 \\\\"
    )
    assert specials in table
    assert "\\title{Model comparison: 50\\% \\& more}" in tex
    assert (
        "\\section{Overview}\\label{sec:overview}" in tex and "\\subsection{Details}\\label{sec:charts-details}" in tex
    )
    assert "\\emph{Chart omitted: Accuracy heat-map (see the HTML report).}" in tex
    assert "\\textbf{three}" in tex and "\\href{https://example.org/docs}{docs}" in tex
    assert "\\item Model mistral\\_7b has no gsm8k runs." in tex
    assert "\\item[Command] \\texttt{metabench analyze data/runs -{}-method all}" in tex  # not an en dash


def _long_report(provenance: Provenance, rows: int) -> Report:
    frame = pl.DataFrame({"item": [f"q_{i}" for i in range(rows)], "difficulty": [i / 7 - 3 for i in range(rows)]})
    return Report("Items", provenance, [Section("Items", [Table(frame, caption="All items", label="items")])])


def test_latex_longtable_for_long_tables(provenance: Provenance) -> None:
    long = _long_report(provenance, 41).to_latex()
    assert "\\begin{longtable}{lr}" in long and "\\begin{table}" not in long
    assert long.count("\\toprule") == 3  # first head, continued head, provenance inputs
    assert "\\endhead" in long and "\\bottomrule\n\\endlastfoot" in long
    assert "q\\_0 & \\ensuremath{-}3.000 \\\\" in long and "q\\_40 & 2.714 \\\\" in long
    short = _long_report(provenance, 40).to_latex()
    assert "\\begin{table}[htbp]" in short and "\\begin{longtable}{lr}" not in short


def _compile(tex: str, tmp_path) -> str:
    (tmp_path / "report.tex").write_text(tex, encoding="utf-8")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "report.pdf").stat().st_size > 1000
    return (tmp_path / "report.log").read_text(encoding="latin-1")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(report: Report, provenance: Provenance, tmp_path) -> None:
    log = _compile(report.to_latex(), tmp_path)
    assert "Overfull \\hbox" not in log
    long_dir = tmp_path / "long"
    long_dir.mkdir()
    _compile(_long_report(provenance, 120).to_latex(), long_dir)


# ---------------------------------------------------------------------------------- JSON


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def test_json_schema_and_values(report: Report) -> None:
    doc = json.loads(report.to_json(), parse_constant=_reject_constant)
    assert doc["schema"] == "metabench.report" and doc["schema_version"] == 1
    assert doc["title"] == "Model comparison: 50% & more"
    assert doc["provenance"]["seed"] == 42 and doc["provenance"]["inputs"][0]["rows"] == 12345
    assert [s["key"] for s in doc["sections"]] == ["overview", "charts"]
    assert doc["sections"][1]["subsections"][0]["key"] == "charts-details"
    text, table = doc["sections"][0]["blocks"]
    assert text["type"] == "text" and text["markdown"].startswith("We compare **three**")
    assert table["columns"] == ["model", "benchmark", "accuracy", "p_value", "n_items"]
    assert table["dtypes"] == ["String", "String", "Float64", "Float64", "Int64"]
    assert table["rows"][0] == ["llama-3-8b", "mmlu_5%", 0.6651234, 3.2e-08, 14042]  # full precision
    assert table["rows"][1][2] is None and table["rows"][3][2] is None  # NaN and null
    assert table["label"] == "scores" and table["digits"] == 3
    heat, bars = doc["sections"][1]["blocks"]
    assert heat["type"] == "chart" and heat["name"] == "heatmap" and heat["vega_lite"]["mark"] == {"type": "rect"}
    assert heat["vega_lite"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert bars["caption"] == "Mean accuracy with 95% intervals" and "layer" in bars["vega_lite"]


def test_json_round_trip(report: Report) -> None:
    text = report.to_json()
    again = Report.from_json(text)
    assert again.to_json() == text
    assert again.title == report.title and again.notes == report.notes
    assert again.provenance == report.provenance
    table = again.sections[0].blocks[1]
    assert isinstance(table, Table)
    assert table.frame.schema == report.sections[0].blocks[1].frame.schema
    assert table.frame["accuracy"].to_list() == [0.6651234, None, 0.7049, None]
    assert again.sections[1] == report.sections[1]  # charts compare by their spec
    # Tables compare by content; JSON has no NaN, so a NaN comes back as a null.
    original = report.sections[0].blocks[1]
    assert table != original
    assert table == Table(
        original.frame.fill_nan(None), original.caption, original.notes, original.digits, original.label
    )
    assert again.to_markdown() == report.to_markdown()
    assert again.to_latex() == report.to_latex()


def test_json_round_trip_dates(provenance: Provenance) -> None:
    frame = pl.DataFrame({"day": [dt.date(2024, 1, 2), None], "at": [dt.datetime(2024, 1, 2, 3, 4, 5), None]})
    r = Report("t", provenance, [Section("s", [Table(frame)])])
    back = Report.from_json(r.to_json()).sections[0].blocks[0].frame
    assert back.schema == frame.schema and back.equals(frame)


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        ('{"schema": "other"}', "invalid_report"),
        ('{"schema": "metabench.report", "schema_version": 2}', "unsupported_version"),
        ('{"schema": "metabench.report", "schema_version": 1}', "invalid_report"),
        ("{not json", "invalid_json"),
    ],
)
def test_from_json_rejects_bad_documents(doc: str, kind: str) -> None:
    with pytest.raises(InputError) as info:
        Report.from_json(doc)
    assert info.value.problem.kind == kind


# ---------------------------------------------------------------------------------- save


def test_save_writes_every_format(report: Report, tmp_path) -> None:
    paths = report.save(tmp_path / "out")
    assert {k: p.name for k, p in paths.items()} == {
        "html": "index.html",
        "md": "report.md",
        "tex": "report.tex",
        "json": "report.json",
    }
    assert paths["md"].read_text(encoding="utf-8") == report.to_markdown()
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["schema_version"] == 1
    assert paths["html"].read_text(encoding="utf-8").count(VEGA_MARKER) == 1


def test_save_selected_formats_and_aliases(report: Report, tmp_path) -> None:
    paths = report.save(tmp_path, formats=("markdown", "json"))
    assert sorted(paths) == ["json", "md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]
    with pytest.raises(InputError, match="unknown report format"):
        report.save(tmp_path, formats=("pdf",))


# ------------------------------------------------------------------------ model checks


def test_provenance_collect(tmp_path) -> None:
    from metabench._version import __version__

    data = tmp_path / "runs.csv"
    data.write_bytes(b"model,benchmark,item,score\na,b,1,1.0\n")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    p = Provenance.collect(
        command="metabench analyze runs.csv",
        seed=7,
        inputs=[data, {"path": "other.jsonl", "format": "lm-eval", "rows": 5}],
        parameters={"alpha": 0.05},
    )
    created = dt.datetime.fromisoformat(p.created)
    assert p.created.endswith("Z") and created.utcoffset() == dt.timedelta(0)
    assert before <= created <= dt.datetime.now(dt.UTC)
    assert p.metabench_version == __version__
    assert p.inputs[0] == {
        "path": data.as_posix(),
        "format": None,
        "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        "rows": None,
    }
    assert p.inputs[1] == {"path": "other.jsonl", "format": "lm-eval", "sha256": None, "rows": 5}
    assert p.parameters == {"alpha": 0.05} and p.seed == 7


def test_sha256_of_directory_is_stable(tmp_path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.txt").write_bytes(b"1")
    (tmp_path / "b" / "c.txt").write_bytes(b"2")
    expected = hashlib.sha256(
        b"a.txt\0" + hashlib.sha256(b"1").hexdigest().encode() + b"\n"
        + b"b/c.txt\0" + hashlib.sha256(b"2").hexdigest().encode() + b"\n"
    ).hexdigest()  # fmt: skip
    assert sha256_path(tmp_path) == expected
    with pytest.raises(InputError, match="no such file"):
        sha256_path(tmp_path / "missing")


def test_provenance_rejects_bad_time() -> None:
    with pytest.raises(InputError, match="ISO 8601"):
        Provenance("0.1.0", None, "yesterday", None, [], {})


def test_duplicate_section_keys_are_rejected(provenance: Provenance) -> None:
    r = Report("t", provenance, [Section("Results")])
    with pytest.raises(InputError, match="section key 'results' is used twice"):
        r.add(Section("Other", subsections=[Section("Results")]))
    assert r.add(Section("Results", key="results-2")) is r
    assert [s.key for s in r.sections] == ["results", "results-2"]


def test_section_and_block_validation() -> None:
    s = Section("Item response theory (2PL)", ["plain text"])
    assert s.key == "item-response-theory-2pl" and s.blocks == [Text("plain text")]
    with pytest.raises(TypeError, match="Text, Table or Chart"):
        Section("x", [42])
    with pytest.raises(InputError, match="not a valid identifier"):
        Section("x", key="has space")
    with pytest.raises(TypeError, match="polars.DataFrame"):
        Table([[1, 2]])
    with pytest.raises(InputError, match="digits"):
        Table(pl.DataFrame({"a": [1.0]}), digits=-1)
    with pytest.raises(TypeError, match="altair chart"):
        Chart("not a chart")


def test_chart_must_embed_its_data() -> None:
    import altair as alt

    with pytest.raises(InputError, match="loads its data from 'scores.csv'") as info:
        Chart(alt.Chart("scores.csv").mark_point().encode(x="x:Q"))
    assert info.value.problem.kind == "chart_data_url"
    nested = {"layer": [{"mark": "bar", "data": {"url": "https://example.org/x.json"}}]}
    with pytest.raises(InputError, match="offline report"):
        Chart(nested)


def test_table_accepts_pandas() -> None:
    t = Table(pd.DataFrame({"m": ["a"], "x": [0.25]}), digits=1)
    assert isinstance(t.frame, pl.DataFrame) and t.cells("-") == [["a", "0.2"]]


def test_number_formatting() -> None:
    values = [0.5, 0.0004, -0.0004, 123456.789, 1e16, float("inf"), float("-inf"), -0.0, 0.0, 2.5e-12]
    assert [_format.format_float(v, 3) for v in values] == [
        "0.500", "4.00e-04", "-4.00e-04", "123456.789", "1.00e+16", "inf", "-inf", "0.000", "0.000", "2.50e-12",
    ]  # fmt: skip
    assert _format.format_float(0.123456, 0) == "0" and _format.format_float(0.0123, 1) == "1.2e-02"


def test_markup_subset() -> None:
    blocks = _markup.parse_blocks(
        "First line\ncontinued **bold *nested*** end.\n\n- a `b|c`\n  wrapped\n- [l](#x)\nAfter"
    )
    assert blocks == [
        ("p", [("text", "First line continued "), ("strong", [("text", "bold "), ("em", [("text", "nested")])]),
               ("text", " end.")]),
        ("ul", [[("text", "a "), ("code", "b|c"), ("text", " wrapped")], [("link", [("text", "l")], "#x")]]),
        ("p", [("text", "After")]),
    ]  # fmt: skip
    assert (
        _markup.blocks_to_html(blocks[1:2]) == '<ul><li>a <code>b|c</code> wrapped</li><li><a href="#x">l</a></li></ul>'
    )
    assert _markup.inline_to_latex(_markup.parse_inline("2 * 3 * 4")) == "2 * 3 * 4"  # no emphasis around spaces
