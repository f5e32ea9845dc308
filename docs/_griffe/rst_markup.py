"""Griffe extension for the neurorx docs: render the Sphinx/RST markup of numpy docstrings as Markdown.

neurorx's docstrings follow numpydoc with Sphinx roles (brian2 style). mkdocstrings renders docstrings as
Markdown, so without this extension ``:math:`a = dt/\\tau```, ``.. math::`` blocks and ``:class:`Foo```
would appear verbatim. The extension rewrites, per docstring and before it is parsed:

- ``:math:`X``` -> ``\\(X\\)`` and ``.. math::`` blocks -> ``$$ ... $$`` blocks (MathJax via
  ``pymdownx.arithmatex``);
- ``:func:``, ``:class:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:data:``, ``:obj:``, ``:exc:`` roles -> code;
- ``text::`` + indented literal block -> ``text:`` + indented code block;
- RST simple tables (``====  ====`` borders) -> Markdown tables;
- ``>>>`` doctest paragraphs outside an ``Examples`` section -> fenced ``python`` code;
- a prose paragraph at the base indentation of a ``Parameters`` section (e.g. "Results per phase: ...")
  -> moved under a ``Notes`` heading, so that it is not read as a parameter;
- a grouped parameter entry ``a, b : type`` -> one entry per name with the same description (griffe gives
  every name of a group the signature default of the first one).

It only changes how docstrings are displayed; the source is untouched. Remove it from ``mkdocs.yml``
(``extensions:``) to see the raw docstrings.
"""

from __future__ import annotations

import re

from griffe import Extension

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const):`(~?)([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
_SECTION_RULE = re.compile(r"^\s*-{3,}\s*$")
_PROSE_LINE = re.compile(r"^[A-Z][\w'()-]*(?: [\w'()-]+)+: \S")   # "Results per phase: ..."
_DOCTEST_FLAG = re.compile(r"\s*#\s*doctest:.*$")
_PARAM_SECTIONS = {"parameters", "other parameters"}
_GROUPED_PARAM = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)+)\s+:\s+(.+)$")
_TABLE_BORDER = re.compile(r"^\s*=+(?:\s+=+)+\s*$")


def _role(match: re.Match) -> str:
    tilde, target = match.group(1), match.group(2).strip()
    explicit = re.match(r"^(.*?)\s*<([^>]+)>$", target)
    if explicit:
        return f"`{explicit.group(1)}`"
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _math_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _MATH_DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        pad, first = m.group(1), m.group(2)
        body = [first] if first.strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(pad)):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        # one $$ block per blank-line-separated equation
        equations, current = [], []
        for line in body:
            if line:
                current.append(line)
            elif current:
                equations.append(current)
                current = []
        if current:
            equations.append(current)
        if out and out[-1].strip():
            out.append("")
        for eq in equations:
            out += [f"{pad}$$"] + [f"{pad}{x}" for x in eq] + [f"{pad}$$", ""]
    return out


def _table(block: list[str]) -> list[str]:
    """An RST simple table (its lines, borders included) as a Markdown table."""
    border = block[0]
    pad = " " * _indent(border)
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", border)]
    n_borders = sum(1 for line in block if _TABLE_BORDER.match(line))
    header, rows, seen = [], [], 0
    for line in block:
        if _TABLE_BORDER.match(line):
            seen += 1
            continue
        if not line.strip():
            continue
        cells = []
        for c, (start, _end) in enumerate(spans):
            stop = len(line) if c == len(spans) - 1 else spans[c + 1][0]
            cells.append(line[start:stop].strip())
        target = header if (n_borders >= 3 and seen == 1) else rows
        if target and not cells[0]:            # continuation line: first column empty
            target[-1] = [f"{a} {b}".strip() for a, b in zip(target[-1], cells, strict=True)]
        else:
            target.append(cells)
    if not header:
        header, rows = rows[:1], rows[1:]
    if not header:
        return block
    out = [pad + "| " + " | ".join(header[0]) + " |", pad + "|" + "---|" * len(spans)]
    out += [pad + "| " + " | ".join(r) + " |" for r in rows]
    return out


def _tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _TABLE_BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not (_TABLE_BORDER.match(lines[j])
                                      and (j + 1 == len(lines) or not lines[j + 1].strip())):
            j += 1
        if j >= len(lines):          # no closing border: leave as it is
            out.append(lines[i])
            i += 1
            continue
        if out and out[-1].strip():
            out.append("")
        out += _table(lines[i : j + 1])
        i = j + 1
    return out


def _structure(lines: list[str]) -> list[str]:
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _SECTION_RULE.match(nxt) and len(nxt.strip()) >= len(line.strip()):
            section = line.strip().lower()
            out += [line, nxt]
            i += 2
            continue
        prev_blank = not out or not out[-1].strip()
        # prose paragraph inside a Parameters section -> a Notes section
        if section in _PARAM_SECTIONS and prev_blank and _indent(line) == 0 and _PROSE_LINE.match(line):
            out += ["Notes", "-----"]
            section = "notes"
            continue
        # grouped parameters "a, b : type" -> one entry each (defaults then come from each name)
        grouped = _GROUPED_PARAM.match(line) if section in _PARAM_SECTIONS and _indent(line) == 0 else None
        if grouped and ", default" not in grouped.group(2):
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > 0):
                j += 1
            body = lines[i + 1 : j]
            while body and not body[-1].strip():
                body.pop()
            for name in re.split(r"\s*,\s*", grouped.group(1)):
                out.append(f"{name} : {grouped.group(2)}")
                out += body
            out += [""] * (j - i - 1 - len(body))
            i = j
            continue
        # doctest paragraph outside Examples -> fenced code
        if line.lstrip().startswith(">>>") and prev_blank and section not in ("examples", "example"):
            pad = " " * _indent(line)
            out.append(f"{pad}```python")
            while i < len(lines) and lines[i].strip():
                out.append(_DOCTEST_FLAG.sub("", lines[i]))
                i += 1
            out.append(f"{pad}```")
            continue
        # RST literal block marker "text::" -> "text:"
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            line = line.rstrip()[:-1]
        out.append(line)
        i += 1
    return out


def rst_to_markdown(text: str) -> str:
    """Convert the RST markup of one docstring to Markdown (see the module docstring)."""
    text = "\n".join(_tables(text.splitlines()))      # before the roles change the column widths
    text = _MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _ROLE.sub(_role, text)
    lines = _math_blocks(text.splitlines())
    return "\n".join(_structure(lines))


class RSTMarkup(Extension):
    """Rewrite every docstring's RST markup as Markdown when the object is loaded."""

    def on_instance(self, *, obj, **kwargs) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and doc.value:
            doc.value = rst_to_markdown(doc.value)
