"""The small markdown subset used in report text, parsed once and rendered per format.

Supported: paragraphs separated by blank lines, bullet lists whose lines start with
``"- "``, ``**bold**``, ``*italic*``, ```code```, ``[label](url)`` and backslash escapes
(``\\*`` is a literal asterisk). Everything else is plain text: raw HTML is escaped, never
passed through, so report text cannot inject markup or scripts.

The parse tree is plain tuples:

- a block is ``("p", inlines)`` or ``("ul", [inlines, ...])``;
- an inline is ``("text", str)``, ``("code", str)``, ``("strong", inlines)``,
  ``("em", inlines)`` or ``("link", inlines, url)``.

Examples
--------
>>> parse_inline("see **this** and `x_1`")
[('text', 'see '), ('strong', [('text', 'this')]), ('text', ' and '), ('code', 'x_1')]
>>> inline_to_html(parse_inline("a < b & [docs](https://example.org)"))
'a &lt; b &amp; <a href="https://example.org">docs</a>'
>>> inline_to_latex(parse_inline("50% of *items*"))
'50\\\\% of \\\\emph{items}'
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "blocks_to_html",
    "blocks_to_latex",
    "escape_latex",
    "escape_markdown",
    "inline_to_html",
    "inline_to_latex",
    "parse_blocks",
    "parse_inline",
]

Inline = tuple[Any, ...]
Block = tuple[str, Any]

# Leftmost match wins; at one position the first alternative that matches wins, so an
# escape beats code, code beats a link, and ``**`` is tried before ``*``.
_INLINE = re.compile(
    r"\\(?P<escaped>[\\`*_\[\]()#+\-.!|<>{}])"
    r"|`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*\*(?P<strong>(?=\S).+?(?<=\S))\*\*(?!\*)"
    r"|\*(?P<em>(?=\S)[^*]+?(?<=\S))\*"
)

# Link targets that are rendered as links; anything else (``javascript:``, ``data:``) is
# shown as plain text.
_SAFE_URL = re.compile(r"^(https?://|mailto:|#|\.{0,2}/|[\w\-.~/]+(?:[#?].*)?$)", re.IGNORECASE)

_BULLET = re.compile(r"^\s*[-*]\s+")


def parse_inline(text: str) -> list[Inline]:
    """Parse one run of inline markdown into a list of inline nodes.

    Parameters
    ----------
    text : str
        Inline markdown (no block structure).

    Returns
    -------
    list of tuple
        The inline nodes, adjacent text merged.

    Examples
    --------
    >>> parse_inline("*a* \\\\*b\\\\*")
    [('em', [('text', 'a')]), ('text', ' *b*')]
    """
    nodes: list[Inline] = []

    def add_text(s: str) -> None:
        if not s:
            return
        if nodes and nodes[-1][0] == "text":
            nodes[-1] = ("text", nodes[-1][1] + s)
        else:
            nodes.append(("text", s))

    pos = 0
    for m in _INLINE.finditer(text):
        add_text(text[pos : m.start()])
        pos = m.end()
        if m.group("escaped") is not None:
            add_text(m.group("escaped"))
        elif m.group("code") is not None:
            nodes.append(("code", m.group("code")))
        elif m.group("label") is not None:
            nodes.append(("link", parse_inline(m.group("label")), m.group("url")))
        elif m.group("strong") is not None:
            nodes.append(("strong", parse_inline(m.group("strong"))))
        else:
            nodes.append(("em", parse_inline(m.group("em"))))
    add_text(text[pos:])
    return nodes


def parse_blocks(text: str) -> list[Block]:
    """Split markdown into paragraphs and bullet lists, and parse their inline content.

    Parameters
    ----------
    text : str
        Markdown text. Blank lines separate paragraphs; lines starting with ``"- "`` form
        a bullet list; an indented line continues the previous bullet.

    Returns
    -------
    list of tuple
        ``("p", inlines)`` and ``("ul", [inlines, ...])`` blocks.

    Examples
    --------
    >>> parse_blocks("Intro\\n\\n- one\\n- two")
    [('p', [('text', 'Intro')]), ('ul', [[('text', 'one')], [('text', 'two')]])]
    """
    blocks: list[Block] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", parse_inline(" ".join(para))))
            para.clear()
        if items:
            blocks.append(("ul", [parse_inline(item) for item in items]))
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif _BULLET.match(raw):
            if para:
                flush()
            items.append(_BULLET.sub("", raw).strip())
        elif items and raw[:1].isspace():
            items[-1] += " " + line
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return blocks


def _safe_url(url: str) -> bool:
    return bool(_SAFE_URL.match(url)) and not url.lower().startswith(("javascript:", "data:", "vbscript:"))


def inline_to_html(nodes: list[Inline]) -> str:
    """Render inline nodes as HTML with every piece of text escaped.

    Examples
    --------
    >>> inline_to_html(parse_inline("[x](javascript:alert(1))"))
    '[x](javascript:alert(1))'
    """
    out: list[str] = []
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(html.escape(node[1], quote=False))
        elif kind == "code":
            out.append(f"<code>{html.escape(node[1], quote=False)}</code>")
        elif kind == "strong":
            out.append(f"<strong>{inline_to_html(node[1])}</strong>")
        elif kind == "em":
            out.append(f"<em>{inline_to_html(node[1])}</em>")
        elif _safe_url(node[2]):
            out.append(f'<a href="{html.escape(node[2], quote=True)}">{inline_to_html(node[1])}</a>')
        else:
            out.append(html.escape(f"[{inline_to_text(node[1])}]({node[2]})", quote=False))
    return "".join(out)


def inline_to_text(nodes: list[Inline]) -> str:
    """The plain text of inline nodes, markup removed.

    Examples
    --------
    >>> inline_to_text(parse_inline("**bold** and [link](https://x.org)"))
    'bold and link'
    """
    out: list[str] = []
    for node in nodes:
        if node[0] in ("text", "code"):
            out.append(node[1])
        else:
            out.append(inline_to_text(node[1]))
    return "".join(out)


def blocks_to_html(blocks: list[Block]) -> str:
    """Render parsed blocks as HTML ``<p>`` and ``<ul>`` elements, one per line."""
    out: list[str] = []
    for kind, content in blocks:
        if kind == "p":
            out.append(f"<p>{inline_to_html(content)}</p>")
        else:
            lis = "".join(f"<li>{inline_to_html(item)}</li>" for item in content)
            out.append(f"<ul>{lis}</ul>")
    return "\n".join(out)


# ---------------------------------------------------------------------------- LaTeX

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # Characters outside pdflatex's default T1/utf8 coverage that statistics text uses.
    "\u2212": r"\ensuremath{-}",
    "\u2013": "--",
    "\u2014": "---",
    "\u2026": r"\ldots{}",
    "\u00b1": r"\ensuremath{\pm}",
    "\u00d7": r"\ensuremath{\times}",
    "\u2264": r"\ensuremath{\leq}",
    "\u2265": r"\ensuremath{\geq}",
    "\u2260": r"\ensuremath{\neq}",
    "\u2248": r"\ensuremath{\approx}",
    "\u2192": r"\ensuremath{\rightarrow}",
    "\u221e": r"\ensuremath{\infty}",
    "\u2211": r"\ensuremath{\Sigma}",
    "\u00b2": r"\ensuremath{^2}",
    "\u03b1": r"\ensuremath{\alpha}",
    "\u03b2": r"\ensuremath{\beta}",
    "\u03b3": r"\ensuremath{\gamma}",
    "\u03b4": r"\ensuremath{\delta}",
    "\u0394": r"\ensuremath{\Delta}",
    "\u03b5": r"\ensuremath{\varepsilon}",
    "\u03b8": r"\ensuremath{\theta}",
    "\u03ba": r"\ensuremath{\kappa}",
    "\u03bb": r"\ensuremath{\lambda}",
    "\u03bc": r"\ensuremath{\mu}",
    "\u03c1": r"\ensuremath{\rho}",
    "\u03c3": r"\ensuremath{\sigma}",
    "\u03c4": r"\ensuremath{\tau}",
    "\u03c7": r"\ensuremath{\chi}",
    "\u2713": r"\ensuremath{\checkmark}",
}
# "--" and "---" would become dashes (also in monospace Latin Modern): break the ligature.
_LATEX_RE = re.compile("-(?=-)|" + "|".join(re.escape(k) for k in _LATEX_SPECIALS))


def _latex_replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    return "-{}" if text == "-" else _LATEX_SPECIALS[text]


def escape_latex(text: str) -> str:
    """Escape LaTeX's special characters so that ``text`` prints literally.

    Parameters
    ----------
    text : str
        Plain text.

    Returns
    -------
    str
        Text safe to put in a LaTeX document body or table cell. Common Greek letters
        and math symbols are mapped to their LaTeX commands so that pdflatex accepts them,
        and ``--`` stays two hyphens rather than becoming a dash.

    Examples
    --------
    >>> print(escape_latex("50% of a_b & {c} #1 $2 ~x^2 \\\\ ≥ θ --x"))
    50\\% of a\\_b \\& \\{c\\} \\#1 \\$2 \\textasciitilde{}x\\textasciicircum{}2 \\textbackslash{} \\ensuremath{\\geq} \\ensuremath{\\theta} -{}-x
    """
    return _LATEX_RE.sub(_latex_replacement, text)


def _escape_url_latex(url: str) -> str:
    # Inside \href's first argument hyperref reads the URL almost verbatim; only these
    # characters need a backslash.
    return re.sub(r"([%#\\{}])", r"\\\1", url)


def inline_to_latex(nodes: list[Inline]) -> str:
    """Render inline nodes as LaTeX (``\\textbf``, ``\\emph``, ``\\texttt``, ``\\href``).

    Examples
    --------
    >>> print(inline_to_latex(parse_inline("`a_b` [site](https://x.org/#top)")))
    \\texttt{a\\_b} \\href{https://x.org/\\#top}{site}
    """
    out: list[str] = []
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(escape_latex(node[1]))
        elif kind == "code":
            out.append(r"\texttt{" + escape_latex(node[1]) + "}")
        elif kind == "strong":
            out.append(r"\textbf{" + inline_to_latex(node[1]) + "}")
        elif kind == "em":
            out.append(r"\emph{" + inline_to_latex(node[1]) + "}")
        elif _safe_url(node[2]):
            out.append(r"\href{" + _escape_url_latex(node[2]) + "}{" + inline_to_latex(node[1]) + "}")
        else:
            out.append(escape_latex(f"[{inline_to_text(node[1])}]({node[2]})"))
    return "".join(out)


def blocks_to_latex(blocks: list[Block]) -> str:
    """Render parsed blocks as LaTeX paragraphs and ``itemize`` lists."""
    out: list[str] = []
    for kind, content in blocks:
        if kind == "p":
            out.append(inline_to_latex(content))
        else:
            items = "\n".join(r"  \item " + inline_to_latex(item) for item in content)
            out.append("\\begin{itemize}\n" + items + "\n\\end{itemize}")
    return "\n\n".join(out)


# ---------------------------------------------------------------------------- Markdown

_MD_SPECIALS = re.compile(r"([\\`*\[\]|<>$~])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def escape_markdown(text: str) -> str:
    """Escape plain text for a GitHub-flavoured markdown table cell or heading.

    Intra-word underscores (``model_name``) are left alone since GitHub does not treat
    them as emphasis; pipes are escaped so that they do not split table cells, and line
    breaks become spaces.

    Examples
    --------
    >>> escape_markdown("gpt_4 | *x* _y_")
    'gpt_4 \\\\| \\\\*x\\\\* \\\\_y\\\\_'
    """
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _MD_SPECIALS.sub(lambda m: "\\" + m.group(0), text)
