"""Every chapter survives jupytext's round trip byte for byte: what JupyterLab does when it opens a
chapter (``notebooks/<chapter>.md``) and saves it, before and after a kernel connects (the kernel
adds its ``language_info`` to the notebook's metadata)."""
import copy

import jupytext
import pytest

from alexnet.book import ROOT, toc_notebooks
from alexnet.book.tooling.checks import KERNEL_LANGUAGE_INFO

CHAPTERS = [ROOT / p for p in toc_notebooks()]


def _saved(text: str, language_info: dict | None) -> str:
    notebook = jupytext.reads(text, fmt="md:myst")
    if language_info is not None:
        notebook.metadata["language_info"] = copy.deepcopy(language_info)
    return jupytext.writes(notebook, fmt="md:myst")


def test_every_chapter_is_checked():
    assert len(CHAPTERS) >= 12


@pytest.mark.parametrize("kernel", [False, True], ids=["no-kernel", "kernel"])
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_a_save_leaves_the_chapter_unchanged(chapter, kernel):
    text = chapter.read_text(encoding="utf-8")
    assert _saved(text, KERNEL_LANGUAGE_INFO if kernel else None) == text


@pytest.mark.parametrize("kernel", [False, True], ids=["no-kernel", "kernel"])
def test_the_round_trip_catches_a_rewrite(kernel):
    """The test above can fail: a bare fence is rewritten once a kernel is connected, a key of the
    header that jupytext does not keep is dropped either way."""
    text = CHAPTERS[0].read_text(encoding="utf-8")
    bare = text.replace("```{code-cell} ipython3", "```{code-cell}")
    keyed = text.replace("kernelspec:", "mystnb:\n  render_markdown_format: myst\nkernelspec:", 1)
    info = KERNEL_LANGUAGE_INFO if kernel else None
    assert _saved(keyed, info) != keyed
    assert (_saved(bare, info) != bare) == kernel
