"""The book layer: what the chapters call, the checks every page passes, and the build.

Each chapter's one editable source is a MyST Markdown notebook ``notebooks/<chapter>.md``
(jupytext's ``myst`` format).

* :mod:`alexnet.book.page`: :func:`setup` (the one set-up call of a chapter), :func:`show_code`
  (the package's implementation on the page), :func:`figure` (a figure for a captioned
  ``{glue:figure}``), :func:`say_data` (which data, profile and device a page's numbers come from).
* :mod:`alexnet.book.tooling`: what builds and checks the book, not what a chapter calls:
  :mod:`~.tooling.build` (``python -m alexnet book``: each chapter executed with papermill, the HTML
  built from the executed copies), :mod:`~.tooling.checks` (:func:`check_page` and its parts, the
  rules every page passes), :mod:`~.tooling.sphinx_ext` (MathJax shipped with the book, launch links
  to the sources).
* Each chapter's profiles, values, tables and figures: :mod:`.data` and :mod:`.data_figures` (Sections 2
  and 4.1), :mod:`.architecture` and :mod:`.diagram` (Section 3), :mod:`.relu` (3.1), :mod:`.lrn` (3.3),
  :mod:`.pca` (4.1), :mod:`.ablations` (what the ablation chapters of Sections 3.3-4.2 share: their
  opening call, glued values, tables, figure and folded check), :mod:`.schedule` (the ablations'
  regime), :mod:`.imagenette_claims`, :mod:`.training` (Sections 5 and 6), :mod:`.qualitative` (6.1),
  :mod:`.bench` (the performance chapter), :mod:`.scorecard` (the front page).
* Shared by them: :mod:`.results` (committed results, their status and provenance line, the quick
  rerun) and :mod:`.formatting` (dates, commits, devices; numbers through :mod:`alexnet.formatting`).

The library never imports this package.
"""
from .tooling.build import ROOT, build, execute_notebook, toc_files, toc_notebooks
from .tooling.checks import check_html, check_notebook, check_page, check_source
from .page import LINE_WIDTH, device_words, figure, say_data, setup, show_code, shown_path

__all__ = [
    "LINE_WIDTH", "ROOT", "build", "check_html", "check_notebook", "check_page", "check_source",
    "device_words", "execute_notebook", "figure", "say_data", "setup", "show_code", "shown_path", "toc_files",
    "toc_notebooks",
]
