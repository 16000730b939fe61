"""What a chapter of the book calls: one set-up call, the package's code on the page, captioned
figures, and the words that say which data, profile and device a page's numbers come from.

A chapter (``notebooks/<chapter>.md``) opens with its ``parameters`` cell (papermill's), followed
by one cell kept out of the rendered page::

    import alexnet.book
    alexnet.book.setup()

and then uses :func:`show_code` where the paper describes what the code implements,
:func:`figure` with a ``{glue:figure}`` directive for every figure, and :func:`say_data` beside
the numbers of a run. Where the package is missing (Colab, Binder), the build puts the one cell
that installs it into the executed copy (:mod:`alexnet.book.tooling.build`); the source has none.
"""
from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

from ..errors import AlexNetError

#: Characters of a code or output line that fit the page at 1400 px (code is set at 12 px).
LINE_WIDTH = 100
#: Width of the page's text column at 1400 px, in CSS pixels; a figure wider than this is shrunk.
PAGE_PX = 780
#: Resolution of the figures (dots per inch): a figure ``PAGE_PX / DPI`` inches wide is shown at 1:1.
DPI = 100
#: Width in inches of a figure that spans the page.
PAGE_INCHES = PAGE_PX / DPI
#: Smallest text, in CSS pixels at 1400 px, that a figure may show.
MIN_TEXT_PX = 10.0
#: The output metadata key under which these helpers leave facts for the build and the checks.
META = "alexnet"


#: The first line of the cell papermill injects after a notebook's ``parameters`` cell (Python).
INJECTED_HEADER = "# Parameters"


class ParameterError(AlexNetError):
    """A parameter given to a chapter (``papermill -p NAME VALUE``) that its parameters cell lacks."""


def assigned_names(source: str) -> list[str]:
    """The names a cell of plain assignments binds, in order (a parameters cell, papermill's cell)."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:
        return []
    names: list[str] = []
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def unknown_parameters(cells: list[str]) -> tuple[list[str], list[str]]:
    """``(unknown, declared)`` for the sources of the cells run before the set-up call, last last.

    When the last of them is papermill's injected cell (it starts with :data:`INJECTED_HEADER`), the
    one before it is the chapter's parameters cell: a name papermill set that the parameters cell
    does not is unknown. Without an injected cell, nothing is unknown.
    """
    if len(cells) < 2 or cells[-1].splitlines()[:1] != [INJECTED_HEADER]:
        return [], []
    declared = assigned_names(cells[-2])
    return [name for name in assigned_names(cells[-1]) if name not in declared], declared


def check_parameters(cells: list[str] | None = None) -> None:
    """Raise :class:`ParameterError` naming each parameter papermill gave that the chapter lacks.

    Papermill itself only warns about an unknown name (``-p input_sise 227``) and runs the chapter
    with the default; the set-up cell that follows the parameters cell stops it instead. ``cells``
    defaults to the kernel's input history without the running cell.
    """
    if cells is None:
        shell = _shell()
        if shell is None:
            return
        cells = list(shell.history_manager.input_hist_raw[1:-1])
    unknown, declared = unknown_parameters(cells)
    if unknown:
        raise ParameterError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                             f"(papermill -p); this chapter's parameters are {', '.join(declared)}")


def _shell():
    """The running IPython shell, or ``None`` (no IPython, or not in a notebook)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _one_line_errors(shell) -> None:
    """Show an :class:`AlexNetError` raised in a chapter as its one-line message, no traceback."""

    def show(shell, etype, value, tb, tb_offset=None):
        line = f"{etype.__name__}: {value}"
        shell._showtraceback(etype, value, [line])  # where IPython and ipykernel show a traceback
        return [line]

    shell.set_custom_exc((AlexNetError,), show)


def setup() -> None:
    """Prepare a chapter's kernel: parameters checked, figures sized for the page, short lines.

    Called in the cell right after the chapter's parameters cell: a parameter papermill was given
    that the parameters cell does not declare stops the chapter (:func:`check_parameters`), and an
    :class:`AlexNetError` (a bad parameter value) is shown as one line. Matplotlib draws figures
    :data:`PAGE_INCHES` wide at :data:`DPI` with 10-point text, so that text is about 14 px on the
    page; pandas, numpy and torch print at most :data:`LINE_WIDTH` characters a line.
    """
    shell = _shell()
    if shell is not None:
        _one_line_errors(shell)
    check_parameters()
    import matplotlib as mpl
    import numpy as np

    mpl.rcParams.update({
        "figure.figsize": (PAGE_INCHES, PAGE_INCHES * 0.5),
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": 10,
        "axes.titlesize": 10,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "figure.titlesize": 11,
    })
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
        if shell is not None:  # the inline backend's own rc would override the dpi above
            shell.run_line_magic("config", f"InlineBackend.rc = {{'figure.dpi': {DPI}, 'savefig.dpi': {DPI}}}")
    except ImportError:  # not in a notebook
        pass
    np.set_printoptions(linewidth=LINE_WIDTH)
    try:
        import pandas as pd

        pd.set_option("display.width", LINE_WIDTH)
        pd.set_option("display.max_colwidth", 60)
    except ImportError:
        pass
    try:
        import torch

        torch.set_printoptions(linewidth=LINE_WIDTH)
    except ImportError:
        pass


def source_of(obj: Any) -> str:
    """The source code of ``obj`` (a class, function or method of the package), dedented."""
    try:
        return textwrap.dedent(inspect.getsource(obj)).rstrip() + "\n"
    except (OSError, TypeError) as err:
        raise TypeError(f"no source code for {obj!r}: {err}") from None


def where(obj: Any) -> str:
    """``alexnet/layers.py`` style path of the file that defines ``obj`` (relative to the repository)."""
    from pathlib import Path

    from ..provenance import ROOT

    path = Path(inspect.getsourcefile(inspect.unwrap(obj)) or "").resolve()  # past decorators (torch.no_grad)
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def show_code(obj: Any, *, title: bool = True):
    """Display the package's implementation of ``obj`` as highlighted Python, read from the source.

    The code shown is the code that runs (``inspect.getsource``), so the page cannot drift from
    the package. With ``title``, a line names the object and its file.
    """
    from IPython.display import Markdown

    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    head = f"`{name}`, from `{where(obj)}`:\n\n" if title else ""
    return Markdown(f"{head}```python\n{source_of(obj)}```")


def text_px(fig, page_px: float = PAGE_PX) -> float:
    """The smallest text of ``fig`` in CSS pixels once the figure is shown at most ``page_px`` wide."""
    from matplotlib.text import Text

    width_px = fig.get_figwidth() * fig.dpi
    scale = min(1.0, page_px / width_px)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    if not sizes:
        return float("inf")
    return min(sizes) * fig.dpi / 72.0 * scale


def figure(name: str, fig=None) -> None:
    """Glue ``fig`` (default: the current figure) as ``name`` for a ``{glue:figure}`` with a caption.

    Nothing is shown where this is called; the page shows the figure where the chapter's text
    places ``{glue:figure} name`` with its caption (numbered by the book). The smallest text of
    the figure at page width (:func:`text_px`) is recorded for the book's checks.
    """
    import IPython
    import matplotlib.pyplot as plt
    from IPython.display import display
    from myst_nb.ext.glue import GLUE_PREFIX

    fig = fig if fig is not None else plt.gcf()
    smallest = text_px(fig)
    bundle, metadata = IPython.core.formatters.format_display_data(fig)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    metadata[META] = {"figure": name, "min_text_px": round(smallest, 1),
                      "width_px": round(fig.get_figwidth() * fig.dpi)}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    plt.close(fig)


def shown_path(path: Any) -> str:
    """A folder as a page may show it: ``$ALEXNET_DATA/...``, ``./...`` (the repository) or ``~/...``,
    never a folder name of the machine that built the book."""
    import os
    from pathlib import Path

    from ..provenance import ROOT

    folder = Path(path).expanduser().resolve()
    env = os.environ.get("ALEXNET_DATA")
    for base, label in ((env, "$ALEXNET_DATA"), (ROOT, "."), (Path.home(), "~")):
        if not base:
            continue
        try:
            rel = folder.relative_to(Path(base).expanduser().resolve())
        except ValueError:
            continue
        return f"{label}/{rel.as_posix()}" if rel.parts else label
    return f".../{folder.name}"


def device_words(device: Any = None) -> str:
    """``"a 2-core CPU, Intel Xeon ..."`` or ``"a NVIDIA H200 GPU"``: a device in words.

    ``device`` is a device of this machine (``"cpu"``, ``"cuda:0"``, a :class:`torch.device`;
    ``None``: the CPU) or a device as a provenance record names it
    (:func:`alexnet.provenance.device_description`, possibly another machine's).
    """
    import torch

    from ..provenance import cpu_model, usable_cores

    text = "cpu" if device is None else str(device)
    cpu = re.fullmatch(r"CPU (.*) \((\d+) cores\), (\d+) thread\(s\).*", text)
    if cpu:
        threads = int(cpu.group(3))
        return f"a {cpu.group(2)}-core CPU, {cpu.group(1)} ({threads} thread{'s' if threads != 1 else ''})"
    if " (CUDA " in text:
        return f"a {text.split(' (CUDA ', 1)[0]} GPU"
    dev = torch.device(text)
    if dev.type == "cuda" and torch.cuda.is_available():
        return f"a {torch.cuda.get_device_name(dev)} GPU"
    return f"a {usable_cores()}-core CPU, {cpu_model()}"


def say_data(what: str, *, generated: bool, profile: str, device: Any = None, note: str = "",
             warning: str = ""):
    """The sentence beside a run's numbers: which data, which profile, which device.

    ``what`` names the data in words (e.g. ``"1,000 CIFAR-10 training images"``). With
    ``generated`` the sentence is a warning admonition saying that the numbers say nothing about
    the paper; ``warning`` (words of the caller) makes it a warning admonition too. The returned
    object records the data's kind for ``python -m alexnet book``.
    """
    ran = f"under the `{profile}` profile on {device_words(device)}"
    if generated:
        text = (f"```{{warning}}\n**Generated data.** These numbers come from {what}, {ran}: no real data "
                f"was found, so they show that the code runs and say nothing about the paper. "
                f"{note} {warning}\n```")
    elif warning:
        text = f"```{{warning}}\nThe numbers below come from {what}, {ran}. {warning} {note}\n```"
    else:
        text = f"*The numbers below come from {what}, {ran}.* {note}".rstrip()
    return _Noted(text, {"data": "generated" if generated else "real", "what": what, "profile": profile})


class _Noted:
    """Markdown that carries :data:`META` metadata into its notebook output."""

    def __init__(self, markdown: str, facts: dict):
        self.markdown = markdown
        self.facts = facts

    def _repr_markdown_(self):
        return self.markdown, {META: self.facts}

    def __repr__(self) -> str:
        return self.markdown
