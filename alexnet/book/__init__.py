"""The book layer: building the Jupyter Book (``python -m alexnet book``).

Each chapter's one editable source is a MyST Markdown notebook ``notebooks/<chapter>.md``
(jupytext's ``myst`` format). :mod:`alexnet.book.build` converts each one to ``.ipynb`` under
``_build``, executes it with papermill and builds the HTML from the executed copies.
"""
from .build import ROOT, add_parser, build, execute_notebook, toc_files, toc_notebooks

__all__ = ["ROOT", "add_parser", "build", "execute_notebook", "toc_files", "toc_notebooks"]
