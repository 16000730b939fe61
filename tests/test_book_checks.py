"""The rules every page of the book passes (alexnet.book.tooling.checks) and the page helpers
(alexnet.book.page), on small made-up notebooks and pages: no book is built here. The chapters'
sources are checked too (tests/test_book.py checks the executed and rendered pages)."""
import inspect
from pathlib import Path

import nbformat
import pytest

from alexnet.book import ROOT, check_html, check_notebook, check_source, toc_files, toc_notebooks
from alexnet.book.page import LINE_WIDTH, figure, say_data, setup, show_code, shown_path, source_of, text_px

HEADER = """---
jupytext:
  notebook_metadata_filter: -jupytext.text_representation.jupytext_version
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: AlexNet (.venv)
  language: python
  name: alexnet
---
"""
GOOD_CELLS = """
# A chapter

```{code-cell} ipython3
:tags: [parameters, remove-cell]

profile = "ci"
```

```{code-cell} ipython3
:tags: [remove-cell]

import alexnet.book
alexnet.book.setup()
```
"""


def _source(tmp_path, text, name="ch.md"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- sources -------------------------------------------------------------------------------------

def test_a_good_source_passes(tmp_path):
    assert check_source(_source(tmp_path, HEADER + GOOD_CELLS)) == []


def test_a_chapter_that_is_not_markdown_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    assert "not .ipynb" in check_source(path)[0]


def test_a_generated_chapter_is_refused(tmp_path):
    text = HEADER + GOOD_CELLS + "\n```{code-cell}\nSETUP = '''x'''\ncell = nbformat.v4.new_code_cell(SETUP)\n```\n"
    assert any("generated" in p for p in check_source(_source(tmp_path, text)))


def test_source_rules(tmp_path):
    wide = "x = 1  # " + "y" * LINE_WIDTH
    text = HEADER.replace("name: alexnet", "name: python3") + GOOD_CELLS.replace("[parameters, remove-cell]", "[other]") + (
        f"\n```{{code-cell}}\n{wide}\n```\n\nAs issue 11 said, the last session fixed it.\n\n"
        f"```bash\n{wide}\n```\n")
    problems = "\n".join(check_source(_source(tmp_path, text)))
    assert "kernelspec 'python3'" in problems
    assert "0 cells tagged 'parameters'" in problems
    assert "code line of" in problems and "in the text" in problems
    assert "'issue 11'" in problems and "'session'" in problems


def test_a_hidden_wide_cell_and_a_directive_are_allowed(tmp_path):
    wide = "x = 1  # " + "y" * LINE_WIDTH
    text = HEADER + GOOD_CELLS + (f"\n```{{code-cell}} ipython3\n:tags: [remove-input]\n\n{wide}\n```\n\n"
                                  f"```{{note}}\n{wide}\n```\n")
    assert check_source(_source(tmp_path, text)) == []


def test_the_setup_cell_follows_the_hidden_parameters_cell(tmp_path):
    text = HEADER + GOOD_CELLS.replace("[remove-cell]\n\nimport", "[hide-input]\n\nimport")
    assert "not the hidden set-up cell" in check_source(_source(tmp_path, text))[0]
    shown = HEADER + GOOD_CELLS.replace("[parameters, remove-cell]", "[parameters]")
    assert "parameters cell is shown on the page" in check_source(_source(tmp_path, shown))[0]
    first, second = GOOD_CELLS.split("\n\n```{code-cell} ipython3\n:tags: [remove-cell]")
    swapped = HEADER + "\n```{code-cell} ipython3\n:tags: [remove-cell]" + second + first
    assert any("not the hidden set-up cell" in p for p in check_source(_source(tmp_path, swapped)))


@pytest.mark.parametrize("edit, said", [
    (lambda t: t.replace("{code-cell} ipython3", "{code-cell}"), "with a kernel connected"),
    (lambda t: t.replace("kernelspec:", "mystnb:\n  render_markdown_format: myst\nkernelspec:"), "when it is saved"),
    (lambda t: t.replace("---\n\n# A chapter", "---\n\n\n# A chapter"), "when it is saved"),
])
def test_a_source_jupytext_would_rewrite_is_named(tmp_path, edit, said):
    problems = check_source(_source(tmp_path, edit(HEADER + GOOD_CELLS)))
    assert any("jupytext rewrites this file" in p and said in p for p in problems), problems


# --- executed notebooks --------------------------------------------------------------------------

def _executed(*outputs, tags=()):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("pass", metadata={"tags": list(tags)})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [cell]
    return nb


def _stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def test_a_clean_notebook_passes():
    assert check_notebook(_executed(_stream("top-1 error 37.5%\n")), "x") == []


@pytest.mark.parametrize("output, expected", [
    (_stream("x" * (LINE_WIDTH + 1) + "\n"), "stdout line of"),
    (_stream("WARNING: no CIFAR-10 was found\n"), "warning printed to stdout"),
    (_stream("UserWarning: something\n", "stderr"), "warning printed to stderr"),
    (_stream("Traceback (most recent call last):\n  File x\n"), "traceback"),
    (_stream(f"cache in {Path.home()}/.cache/alexnet\n"), "folder of the machine"),
    ({"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}, "cell 0 failed"),
    ({"output_type": "execute_result", "execution_count": 1, "metadata": {},
      "data": {"text/plain": "y" * (LINE_WIDTH + 5)}}, "text/plain line of"),
    ({"output_type": "display_data", "metadata": {},
      "data": {"text/html": "<table><tr>" + "<td>" + "z" * 40 + "</td>" * 1 + "<td>" + "w" * 60 + "</td></tr></table>",
               "text/plain": "t"}}, "a table about"),
    ({"output_type": "display_data", "data": {"image/png": "iVBOR"},
      "metadata": {"alexnet": {"figure": "fig-x", "min_text_px": 6.0}}}, "text of 6.0 px"),
])
def test_notebook_problems_are_found(output, expected):
    problems = check_notebook(_executed(output), "x")
    assert any(expected in p for p in problems), problems


def test_removed_output_is_not_checked_for_width():
    assert check_notebook(_executed(_stream("x" * 200 + "\n"), tags=["remove-output"]), "x") == []


# --- rendered pages ------------------------------------------------------------------------------

PAGE = """<html><body><div class="header"><img src="logo.svg"></div><main><article class="bd-article">
<p>Text.</p>{body}</article></main></body></html>"""


def test_a_captioned_figure_passes():
    body = ('<figure id="fig-a"><div><img src="_images/a.png"></div><figcaption><p>'
            '<span class="caption-number">Fig. 1 </span>What it shows.</p></figcaption></figure>')
    assert check_html(PAGE.format(body=body), "x") == []


@pytest.mark.parametrize("body, expected", [
    ('<div class="cell_output"><img src="_images/a.png"></div>', "1 of 1 images are not a figure"),
    ('<figure><img src="_images/a.png"></figure>', "1 of 1 images are not a figure"),
    ("<pre>Traceback (most recent call last):</pre>", "a traceback"),
    ("<p>This table was added in issue 6 by an earlier session.</p>", "development"),
    ("<table><tr>" + "<td>" + "q" * 100 + "</td>" * 1 + "</tr></table>", "a table about"),
])
def test_page_problems_are_found(body, expected):
    problems = check_html(PAGE.format(body=body), "x")
    assert any(expected in p for p in problems), problems


# --- page helpers --------------------------------------------------------------------------------

def test_show_code_shows_the_package_source():
    from alexnet.layers import LocalResponseNorm

    shown = show_code(LocalResponseNorm).data
    assert inspect.getsource(LocalResponseNorm).strip().splitlines()[0] in shown
    assert "`alexnet/layers.py`" in shown and shown.count("```") == 2


def test_show_code_dedents_a_method():
    from alexnet.optim import PaperSGD

    assert source_of(PaperSGD.step).startswith(("def step", "@"))
    assert "`alexnet/optim.py`" in show_code(PaperSGD.step).data  # the file past torch.no_grad's wrapper


def test_generated_data_is_a_warning_admonition():
    md, meta = say_data("600 generated images", generated=True, profile="ci")._repr_markdown_()
    assert md.startswith("```{warning}") and "say nothing about the paper" in md
    assert meta == {"alexnet": {"data": "generated", "what": "600 generated images", "profile": "ci"}}
    md, meta = say_data("50,000 CIFAR-10 images", generated=False, profile="full")._repr_markdown_()
    assert "{warning}" not in md and "50,000 CIFAR-10 images" in md and "`full` profile" in md
    assert meta["alexnet"]["data"] == "real"


def test_figures_record_their_smallest_text(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    setup()
    fig, ax = plt.subplots(figsize=(16, 4))  # twice the page: shown at half size
    ax.set_title("tiny", fontsize=8)
    assert text_px(fig) == pytest.approx(8 * 100 / 72 * 780 / 1600, rel=0.01)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    figure("fig-tiny", fig)
    (bundle,), kwargs = shown[0]
    assert any(k.endswith("image/png") for k in bundle)
    assert kwargs["metadata"]["alexnet"]["min_text_px"] < 10


def test_shown_paths_hide_the_machine_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_DATA", str(tmp_path))
    assert shown_path(tmp_path / "cifar10") == "$ALEXNET_DATA/cifar10"
    assert shown_path(ROOT / "results") == "./results"
    assert shown_path(Path.home() / ".cache" / "alexnet").startswith("~/") or Path.home() == Path("/")


# --- the chapters' sources -----------------------------------------------------------------------

def test_every_chapter_is_one_myst_markdown_notebook_and_nothing_generates_one():
    chapters = [f for f in toc_files() if f.startswith("notebooks/")]
    assert chapters and all((ROOT / f).with_suffix(".md").is_file() for f in chapters)
    notebooks = [ROOT / p for p in toc_notebooks() if p.parts[0] == "notebooks"]  # (book/intro is one too)
    assert notebooks == [(ROOT / f).with_suffix(".md") for f in chapters]
    assert not list((ROOT / "notebooks").glob("*.ipynb")), "chapters are .md only (no .ipynb to drift from)"
    assert not list(ROOT.glob("tools/make_*.py")), "no generators of chapters"


@pytest.mark.parametrize("chapter", toc_notebooks(), ids=lambda p: p.stem)
def test_chapter_source(chapter):
    assert check_source(ROOT / chapter) == []


def test_book_config_renders_warnings_and_ships_mathjax():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    assert config["config"]["nb_render_markdown_format"] == "myst"  # say_data's {warning} is an admonition
    assert "alexnet.book.tooling.sphinx_ext" in config["extra_extensions"]


def test_mathjax_is_copied_from_its_package(tmp_path):
    from alexnet.book.tooling.sphinx_ext import copy_mathjax

    target = copy_mathjax(tmp_path / "mathjax")
    assert (target / "tex-chtml.js").stat().st_size > 500_000
    assert list((target / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
