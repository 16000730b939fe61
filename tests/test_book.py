"""The book: every chapter executes under the `ci` profile with papermill, the HTML builds with
warnings as errors, every page of `_toc.yml` exists and embeds its figures, every glued number
is finite, and every executed chapter and rendered page passes alexnet.book.checks (no error or
traceback, no line wider than the page, no warning only in a stream, no folder of the machine,
every figure captioned and legible, no words about the project's development). This is the one
place CI builds the whole book (about 10 minutes on two cores)."""
import math
import re
from pathlib import Path

import nbformat
import pytest

from alexnet.book import ROOT, build, check_html, check_notebook, execute_notebook, toc_files, toc_notebooks
from alexnet.errors import AlexNetError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # the first test builds the whole book


@pytest.fixture(scope="module")
def html() -> Path:
    return build("ci")


def _executed(nb: Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "_build" / "source" / nb.with_suffix(".ipynb"), as_version=4)


def test_every_toc_page_is_rendered(html):
    for name in toc_files():
        assert (html / f"{name}.html").is_file(), f"{name} missing from the book"


@pytest.mark.parametrize("nb", toc_notebooks(), ids=lambda p: p.stem)
def test_notebook_executed_without_errors_and_figures_are_embedded(html, nb):
    executed = _executed(nb)
    figures = 0
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{nb}: a cell failed"
            if "image/png" in out.get("data", {}):
                figures += 1
    page = (html / nb.with_suffix(".html")).read_text()
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', page)
    local = [s for s in srcs if not s.startswith(("http", "data:"))]
    for src in local:
        assert (html / nb.parent / src).resolve().is_file(), f"{nb}: broken image {src}"
    embedded = sum(1 for s in local if "_images/" in s) + sum(1 for s in srcs if s.startswith("data:image"))
    assert embedded >= figures, f"{nb}: {figures} figures in the notebook, {embedded} on the page"
    assert "Traceback" not in page


@pytest.mark.parametrize("nb", toc_notebooks(), ids=lambda p: p.stem)
def test_executed_chapter_and_page_pass_the_checks(html, nb):
    problems = check_notebook(_executed(nb), nb.name)
    problems += check_html((html / nb.with_suffix(".html")).read_text(), nb.name)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("page", [f for f in toc_files() if f.startswith("book/")])
def test_text_pages_pass_the_checks(html, page):
    assert check_html((html / f"{page}.html").read_text(), page) == []


@pytest.mark.parametrize("nb", toc_notebooks(), ids=lambda p: p.stem)
def test_glued_values_exist_and_are_finite(html, nb):
    glued = {}
    for cell in _executed(nb).cells:
        for out in cell.get("outputs", []):
            scrap = out.get("metadata", {}).get("scrapbook")
            if scrap:
                # myst-nb stores glued values under "application/papermill.record/<mime>"
                texts = [v for k, v in out["data"].items() if k.endswith("text/plain")]
                assert texts, f"{nb}: glued {scrap['name']} has no text form"
                glued[scrap["name"]] = texts[0]
    assert glued, f"{nb} glues no values for its prose"
    numbers = 0
    for name, text in glued.items():
        value = text.strip().strip("'\"").replace(",", "")
        try:
            number = float(value)
        except ValueError:
            continue  # a label, not a number
        assert math.isfinite(number), f"{nb}: glued {name} = {text}"
        numbers += 1
    if not numbers:
        pytest.skip(f"{nb} glues only figures and labels, no numbers")


def test_unknown_parameter_is_refused_before_running(tmp_path):
    nb = ROOT / "notebooks" / "03_architecture.md"
    with pytest.raises(AlexNetError, match=r"unknown parameter\(s\) \['epochs'\]"):
        execute_notebook(nb, tmp_path / "out.ipynb", {"profile": "ci", "epochs": 3})


def test_impossible_value_fails_naming_notebook_and_parameter(tmp_path):
    nb = ROOT / "notebooks" / "03_architecture.md"
    with pytest.raises(AlexNetError, match=r"03_architecture.md: cell \d+ failed: AlexNetError: .*input_size"):
        execute_notebook(nb, tmp_path / "out.ipynb", {"profile": "ci", "input_size": 32})


#: Words of a verdict or an interval, which a check that the code runs (on small or generated data) never shows.
VERDICT_WORDS = re.compile(r"\binterval\b|\bverdict\b|\bagrees\b|\bdisagrees\b|\binconclusive\b|\bequivalent\b",
                           re.IGNORECASE)


def _shown_text(out) -> str:
    data = out.get("data", {})
    return out.get("text", "") + "".join(str(data.get(k, "")) for k in ("text/markdown", "text/html", "text/plain"))


@pytest.mark.parametrize("nb", toc_notebooks(), ids=lambda p: p.stem)
def test_the_folded_check_shows_no_interval_or_verdict(html, nb):
    for cell in _executed(nb).cells:
        if "hide-output" not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            found = VERDICT_WORDS.search(_shown_text(out))
            assert found is None, f"{nb}: the folded check shows {found.group(0)!r}"


def test_the_front_page_opens_with_the_scorecard(html):
    from alexnet.book import scorecard

    glued = {}
    for cell in _executed(Path("book/intro.md")).cells:
        for out in cell.get("outputs", []):
            scrap = out.get("metadata", {}).get("scrapbook")
            if scrap and scrap["name"].startswith("score_"):
                glued[scrap["name"]] = int(next(v for k, v in out["data"].items() if k.endswith("text/plain")))
    kinds = {k for k in glued if k != "score_claims"}
    assert glued["score_claims"] == len(scorecard.ORDER) == sum(glued[k] for k in kinds)
    page = (html / "book" / "intro.html").read_text()
    start = page.index('class="scorecard')
    table = page[start:page.index("</table>", start)]
    assert table.count("<tr") == 1 + len(scorecard.ORDER)  # the header and one row per claim
