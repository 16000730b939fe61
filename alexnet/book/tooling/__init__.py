"""The book's tooling, beside the chapter helpers of :mod:`alexnet.book`: what builds and checks the
book, not what a chapter calls.

* :mod:`.build`: ``python -m alexnet book`` converts each chapter to ``.ipynb`` under ``_build``,
  executes it with papermill and builds the HTML from the executed copies; the repository's address
  (``_config.yml``) decides the launch buttons and the download's install cell.
* :mod:`.checks`: :func:`~.checks.check_page` and its parts, the rules every page passes.
* :mod:`.sphinx_ext`: the Sphinx extension ``_config.yml`` names (MathJax shipped with the book,
  launch links to the chapters' sources).

Dependencies point one way: ``build`` -> ``checks`` -> :mod:`alexnet.book.page`.
"""
