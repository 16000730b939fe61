"""A Sphinx extension for the book (listed in ``_config.yml``): formulas offline, working launch links.

* **MathJax shipped with the book.** The MathJax 3 files of the ``django-static-mathjax`` package
  (a PyPI package that bundles MathJax; it needs no Django to be read) are copied into the book's
  ``_static/mathjax`` and ``mathjax_path`` points there, so formulas render without a network.
* **Launch links to the chapter's source.** The book is built from executed ``.ipynb`` copies,
  but the repository holds each chapter as ``notebooks/<chapter>.md``; the Binder link opens that
  file (JupyterLab shows it as a notebook through jupytext, see ``postBuild``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

#: The parts of MathJax's ``es5`` folder the book loads: the TeX-to-HTML bundle, its fonts, the
#: TeX extensions it may load on demand, and the menu and accessibility parts.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "a11y", "ui")
MATHJAX_SCRIPT = "mathjax/tex-chtml.js"


def mathjax_source() -> Path:
    """The ``es5`` folder of the installed MathJax 3 package."""
    try:
        import mathjax
    except ImportError:
        raise RuntimeError("MathJax is missing: pip install django-static-mathjax (in the [book] extra)") from None
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"{es5}/tex-chtml.js is missing: reinstall django-static-mathjax")
    return es5


def copy_mathjax(target: Path) -> Path:
    """Copy the parts of MathJax the book needs into ``target`` (a ``mathjax`` folder); returns it."""
    es5 = mathjax_source()
    for part in MATHJAX_PARTS:
        src, dst = es5 / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return target


def _offline_mathjax(app, config) -> None:
    static = Path(app.doctreedir).parent / "mathjax-static"
    copy_mathjax(static / "mathjax")
    config.html_static_path = [*config.html_static_path, str(static)]
    config.mathjax_path = MATHJAX_SCRIPT


def _source_links(app, pagename, templatename, context, doctree) -> None:
    """Point the launch links of a chapter at ``<chapter>.md``, the file the repository holds."""
    if not pagename.startswith("notebooks/"):
        return

    def fix(node):
        if isinstance(node, dict):
            if isinstance(node.get("url"), str):
                node["url"] = node["url"].replace(f"{pagename}.ipynb", f"{pagename}.md")
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(context.get("header_buttons", []))


def setup(app):
    app.connect("config-inited", _offline_mathjax)
    app.connect("html-page-context", _source_links, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
