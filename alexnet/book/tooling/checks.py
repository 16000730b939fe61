"""What every page of the book must satisfy, as functions that return the problems they find.

* :func:`check_source`: a chapter's source (``notebooks/<chapter>.md``): a MyST Markdown notebook
  with the project's kernel, one hidden ``parameters`` cell followed by the hidden set-up cell,
  text that jupytext's round trip (a JupyterLab save) leaves unchanged, code lines that fit the
  page, no words about how the project itself is developed.
* :func:`check_notebook`: the executed chapter: no error, no traceback, no output line wider than
  the page, no warning printed to a stream (warnings are admonitions in the page's text), no
  folder of the machine that built it, figures whose text is legible at page width.
* :func:`check_html`: the rendered page: every image is a numbered figure with a caption, no
  traceback, no words about the project's development, no table wider than the page.
* :func:`check_page` runs all three for one chapter. Each returns a list of one-line problems,
  empty when the page is fine; ``tests/test_book.py`` runs them over the whole book.
"""
from __future__ import annotations

import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from ..page import INJECTED_HEADER, LINE_WIDTH, META, MIN_TEXT_PX, PAGE_PX

#: What a running Python kernel puts in a notebook's metadata (ipykernel's ``language_info``).
KERNEL_LANGUAGE_INFO = {
    "name": "python", "version": "3.11.0", "mimetype": "text/x-python", "file_extension": ".py",
    "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3",
    "nbconvert_exporter": "python",
}

#: Phrases about the project's own development, which no page may contain.
DEVELOPMENT_WORDS = re.compile(
    r"\bissues?\s*#?\d+|\bsessions?\b|\bthe lead\b|\bpull request|\bTODO\b|\bFIXME\b|\bXXX\b",
    re.IGNORECASE,
)
#: Tags that keep a cell's input off the page.
HIDDEN_INPUT = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
HIDDEN_OUTPUT = {"remove-cell", "remove-output", "hide-output", "hide-cell"}
#: Estimated pixels per character and per column of a table on the page (for table widths: a table
#: is cut off when its columns' longest words do not fit).
TABLE_CHAR_PX, TABLE_CELL_PX = 8.5, 30


#: The one source format of a chapter.
SOURCE_SUFFIX = ".md"


def is_notebook_source(path: Path) -> bool:
    """True when ``path`` is a MyST Markdown notebook (it declares a jupytext kernelspec)."""
    if path.suffix != SOURCE_SUFFIX or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
    return head.startswith("---") and "kernelspec:" in head


def machine_paths() -> list[str]:
    """Folders of the machine that builds the book, which must not appear in a page."""
    from ...provenance import ROOT

    home = str(Path.home())
    found = {str(ROOT) + "/", tempfile.gettempdir().rstrip("/") + "/", "/tmp/"}
    if home not in ("/", ""):
        found.add(home.rstrip("/") + "/")
    return sorted(found)


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _wide(lines, limit: int = LINE_WIDTH) -> list[str]:
    return [line for line in lines if len(line.rstrip()) > limit]


def _fenced_lines(markdown: str) -> list[str]:
    """Lines of the code blocks (```python, ```bash, ...) of a markdown text, not of directives."""
    out: list[str] = []
    fence: tuple[str, bool] | None = None  # (marker, is code)
    for line in markdown.splitlines():
        m = re.match(r"(`{3,}|~{3,})(.*)", line.lstrip())
        if m and fence is None:
            fence = (m.group(1), not m.group(2).strip().startswith("{"))
            continue
        if m and m.group(1) == fence[0] and not m.group(2).strip():
            fence = None
            continue
        if fence and fence[1]:
            out.append(line)
    return out


def _parameter_cells(code: list, name: str) -> list[str]:
    """The parameters cell comes first and off the page; the hidden set-up call right after it
    (where it sees the cell papermill injects between them, :func:`alexnet.book.page.check_parameters`)."""
    params = [i for i, c in enumerate(code) if "parameters" in _tags(c)]
    if len(params) != 1:
        return [f"{name}: {len(params)} cells tagged 'parameters', expected one"]
    i = params[0]
    problems = []
    if not _tags(code[i]) & HIDDEN_INPUT:
        problems.append(f"{name}: the parameters cell is shown on the page (tag it remove-cell)")
    after = code[i + 1] if i + 1 < len(code) else None
    if after is None or "alexnet.book.setup()" not in after.source or "remove-cell" not in _tags(after):
        problems.append(f"{name}: the code cell after the parameters cell is not the hidden set-up cell "
                        "(tag remove-cell) calling alexnet.book.setup()")
    if code[i].source.splitlines()[:1] == [INJECTED_HEADER]:
        problems.append(f"{name}: the parameters cell starts like papermill's injected cell ({INJECTED_HEADER!r})")
    return problems


def _round_trip(text: str, nb, name: str) -> list[str]:
    """JupyterLab saves a chapter through jupytext: the source must be what jupytext writes, with
    and without a kernel's ``language_info`` (else opening a chapter rewrites it)."""
    import copy

    import jupytext

    problems = []
    for label, info in (("", None), (" with a kernel connected", KERNEL_LANGUAGE_INFO)):
        copied = copy.deepcopy(nb)
        if info:
            copied.metadata["language_info"] = dict(info)
        if jupytext.writes(copied, fmt="md:myst") != text:
            problems.append(f"{name}: jupytext rewrites this file when it is saved{label} "
                            "(write fences as ```{code-cell} ipython3, no keys jupytext drops)")
    return problems


def check_source(path: Path) -> list[str]:
    """Problems of a chapter's source ``path`` (must be ``notebooks/<chapter>.md``)."""
    import jupytext

    path = Path(path)
    name = path.name
    if path.suffix != ".md":
        return [f"{name}: a chapter's source is a MyST Markdown notebook (.md), not {path.suffix}"]
    if not is_notebook_source(path):
        return [f"{name}: not a MyST Markdown notebook (no jupytext header with a kernelspec)"]
    text = path.read_text(encoding="utf-8")
    problems = []
    if re.search(r"nbformat\.v4\.new_|\.format\(\*\*|SETUP\s*=", text):
        problems.append(f"{name}: looks generated from code (nbformat calls or string templates)")
    nb = jupytext.reads(text, fmt="md:myst")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "alexnet":
        problems.append(f"{name}: kernelspec {kernel!r}, expected 'alexnet'")
    code = [c for c in nb.cells if c.cell_type == "code"]
    problems += _parameter_cells(code, name)
    problems += _round_trip(text, nb, name)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            if not (_tags(cell) & HIDDEN_INPUT):
                for line in _wide(cell.source.splitlines()):
                    problems.append(f"{name}: cell {i}: code line of {len(line)} > {LINE_WIDTH} characters: "
                                    f"{line.strip()[:60]}")
        else:
            for line in _wide(_fenced_lines(cell.source)):
                problems.append(f"{name}: cell {i}: code line of {len(line)} > {LINE_WIDTH} characters in the text")
            for match in DEVELOPMENT_WORDS.finditer(cell.source):
                problems.append(f"{name}: cell {i}: words about the project's development: {match.group(0)!r}")
    return problems


def _output_texts(out) -> tuple[str, list[str]]:
    """(kind, lines) of the text a notebook output shows on the page."""
    if out.get("output_type") == "stream":
        return out.get("name", "stream"), out.get("text", "").splitlines()
    data = out.get("data", {})
    if any(k.startswith("application/papermill.record/") for k in data):
        return "glue", []  # glued for the text, not shown here
    if "text/html" in data or "image/png" in data or "text/markdown" in data:
        return "rich", []
    return "text/plain", str(data.get("text/plain", "")).splitlines()


def _meta(out) -> dict:
    meta = out.get("metadata", {})
    if META in meta:
        return meta[META]
    for value in meta.values():
        if isinstance(value, dict) and META in value:
            return value[META]
    return {}


def page_facts(nb) -> list[dict]:
    """The facts the page helpers recorded in an executed notebook (data notes, figures)."""
    return [_meta(out) for cell in nb.cells for out in cell.get("outputs", []) if _meta(out)]


def check_notebook(nb, name: str) -> list[str]:
    """Problems of an executed chapter ``nb`` (an ``nbformat`` notebook) called ``name``."""
    problems = []
    paths = machine_paths()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        shown = not (_tags(cell) & HIDDEN_OUTPUT)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{name}: cell {i} failed: {out.get('ename')}: {out.get('evalue')}")
                continue
            kind, lines = _output_texts(out)
            text = "\n".join(lines)
            if "Traceback (most recent call last)" in text:
                problems.append(f"{name}: cell {i}: a traceback in the output")
            if not shown:
                continue
            if kind in ("stdout", "stderr") and re.search(r"warning\b", text, re.IGNORECASE):
                problems.append(f"{name}: cell {i}: a warning printed to {kind}; say it in a warning admonition")
            for line in _wide(lines):
                problems.append(f"{name}: cell {i}: {kind} line of {len(line)} > {LINE_WIDTH} characters: "
                                f"{line.strip()[:60]}")
            rendered = text + "".join(str(v) for k, v in out.get("data", {}).items()
                                      if k in ("text/html", "text/markdown"))
            for folder in paths:
                if folder in rendered:
                    problems.append(f"{name}: cell {i}: a folder of the machine that built the book ({folder})")
            if "text/html" in out.get("data", {}):
                for width in table_widths(str(out["data"]["text/html"])):
                    if width > PAGE_PX:
                        problems.append(f"{name}: cell {i}: a table about {width:.0f} px wide > {PAGE_PX} px")
            facts = _meta(out)
            if facts.get("figure") and facts.get("min_text_px", 99) < MIN_TEXT_PX:
                problems.append(f"{name}: figure {facts['figure']}: text of {facts['min_text_px']} px "
                                f"< {MIN_TEXT_PX} px at page width")
    return problems


class _Page(HTMLParser):
    """Collects the article's images (and whether each is inside a captioned figure), tables and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_article = 0
        self.figures: list[dict] = []  # open <figure> elements
        self.images: list[bool] = []  # per image: inside a figure that has a caption
        self.text: list[str] = []
        self.skip = 0
        self.table: list[list[str]] | None = None
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.in_article += 1
        if not self.in_article:
            return
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "figure":
            self.figures.append({"caption": False, "images": []})
        elif tag == "figcaption" and self.figures:
            self.figures[-1]["caption"] = True
        elif tag == "img":
            if self.figures:
                self.figures[-1]["images"].append(len(self.images))
            self.images.append(False)
        elif tag == "table":
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "article" and self.in_article:
            self.in_article -= 1
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag == "figure" and self.figures:
            fig = self.figures.pop()
            for idx in fig["images"]:
                self.images[idx] = fig["caption"]
        elif tag in ("td", "th") and self.cell is not None and self.table:
            self.table[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.tables.append(self.table)
            self.table = None

    def handle_data(self, data):
        if self.in_article and not self.skip:
            self.text.append(data)
            if self.cell is not None:
                self.cell.append(data)


def _table_width(rows: list[list[str]]) -> float:
    """The narrowest a table can be drawn (each column as wide as its longest word), in pixels."""
    columns: dict[int, int] = {}
    for row in rows:
        for j, cell in enumerate(row):
            columns[j] = max(columns.get(j, 0), max((len(w) for w in cell.split()), default=0))
    return sum(chars * TABLE_CHAR_PX + TABLE_CELL_PX for chars in columns.values())


def table_widths(html: str) -> list[float]:
    """Estimated widths in pixels of the tables of an HTML fragment."""
    parser = _Page()
    parser.in_article = 1
    parser.feed(html)
    return [_table_width(t) for t in parser.tables]


def check_html(html: str, name: str) -> list[str]:
    """Problems of a rendered page (its HTML text) called ``name``."""
    parser = _Page()
    parser.feed(html)
    problems = []
    uncaptioned = parser.images.count(False)
    if uncaptioned:
        problems.append(f"{name}: {uncaptioned} of {len(parser.images)} images are not a figure with a caption")
    text = " ".join(parser.text)
    if "Traceback" in text:
        problems.append(f"{name}: a traceback on the page")
    for match in sorted({m.group(0) for m in DEVELOPMENT_WORDS.finditer(text)}):
        problems.append(f"{name}: words about the project's development on the page: {match!r}")
    for folder in machine_paths():
        if folder in text:
            problems.append(f"{name}: a folder of the machine that built the book on the page ({folder})")
    for width in map(_table_width, parser.tables):
        if width > PAGE_PX:
            problems.append(f"{name}: a table about {width:.0f} px wide > {PAGE_PX} px")
    return problems


def check_page(source: Path, executed: Path | None = None, html: Path | None = None) -> list[str]:
    """All problems of one chapter: its source, its executed copy and its page (those given)."""
    import nbformat

    problems = check_source(Path(source))
    name = Path(source).name
    if executed is not None:
        problems += check_notebook(nbformat.read(executed, as_version=4), name)
    if html is not None:
        problems += check_html(Path(html).read_text(encoding="utf-8"), name)
    return problems
