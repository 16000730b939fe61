"""``python -m alexnet book``: execute every chapter of the book with papermill, then build it.

Each chapter's one editable source is a MyST Markdown notebook, ``notebooks/<chapter>.md``
(jupytext's ``myst`` format; JupyterLab opens it as a notebook when jupytext is installed). This
command converts each chapter listed in ``_toc.yml`` to ``.ipynb`` (``_build/notebooks``), executes
it under a named profile (``ci``: minutes on two CPU cores; ``full``: a GPU and real data) into
``_build/executed/<profile>``, stages those executed copies with the book's other files in
``_build/source`` and runs ``jupyter-book build`` on that copy with notebook execution off and
warnings as errors, so a failing cell fails the build with the chapter and cell named instead of
leaving a stale page. The HTML lands in ``_build/html``.

The repository's address is written once, as ``repository.url`` in ``_config.yml``. It is used only
when ``repository.confirmed`` is true (the project's own public home, or a fork's): then the pages
have launch, repository and issues buttons, and each executed chapter (the page's download) starts
with a hidden cell that installs the commit the page was built from where the package is missing
(Colab). Otherwise the staged ``_config.yml`` turns those buttons off and no install cell is written.
Either way each chapter's page says how to run it locally (:func:`run_note`).
"""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ...errors import AlexNetError
from ...provenance import ROOT, git_commit, is_dirty
from ..page import assigned_names
from .checks import SOURCE_SUFFIX, is_notebook_source, page_facts

BOOK_FILES = ("_toc.yml", "references.bib", "book", "results", "_static")  # and _config.yml, staged
#: The key of ``_config.yml``'s ``repository`` that makes its ``url`` the address pages link to.
CONFIRMED = "confirmed"
#: Jupyter Book's settings that link to the repository; off while it is not confirmed.
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")


def book_config(root: Path = ROOT) -> dict:
    """``_config.yml`` as a dictionary."""
    path = root / "_config.yml"
    if not path.is_file():
        raise AlexNetError(f"{path} is missing")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def public_repository(config: dict) -> str | None:
    """The repository's address when ``_config.yml`` confirms it (``repository.confirmed: true``),
    else ``None`` (a placeholder, or unset): the one address pages may link to and install from."""
    repository = config.get("repository") or {}
    url = str(repository.get("url") or "").strip()
    return url if url and repository.get(CONFIRMED) is True else None


def staged_config(config: dict) -> dict:
    """``_config.yml`` as Jupyter Book gets it: without a confirmed repository, no launch, repository,
    issues or edit buttons and no address (Jupyter Book's default address would be its own)."""
    staged = copy.deepcopy(config)
    repository = staged.setdefault("repository", {})
    repository.pop(CONFIRMED, None)
    if public_repository(config) is None:
        repository["url"] = ""
        html = staged.setdefault("html", {})
        html.update({key: False for key in REPOSITORY_BUTTONS})
        staged["launch_buttons"] = {"binderhub_url": "", "colab_url": "", "jupyterhub_url": "", "thebe": False}
    return staged


def install_cell(url: str, commit: str):
    """The hidden first cell of a chapter's download: where the package is missing (Colab, Binder),
    clone ``url`` at ``commit`` (the commit the page was built from) and install it, no shell."""
    import nbformat

    steps = (f'["git", "clone", "-q", "{url}", "alexnet-repro"],\n'
             f'                 ["git", "-C", "alexnet-repro", "checkout", "-q", "{commit}"],\n'
             '                 [sys.executable, "-m", "pip", "install", "-q", "-e", "alexnet-repro[book]"]')
    source = ("# Without the package (Colab, Binder): the commit this page was built from, installed.\n"
              "import importlib.util, os, subprocess, sys\n"
              'if importlib.util.find_spec("alexnet") is None:\n'
              f"    for step in ({steps}):\n"
              "        subprocess.run(step, check=True)\n"
              '    sys.path.insert(0, os.path.abspath("alexnet-repro"))\n'
              '    os.chdir("alexnet-repro/notebooks")\n')
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]})


def run_note(chapter: Path, parameters: list[str]):
    """A Markdown cell for a chapter's page: how to run it locally, and its parameters."""
    import nbformat

    names = ", ".join(f"`{name}`" for name in parameters)
    text = (f"```{{admonition}} Run this chapter yourself\n:class: tip\n"
            f"In a clone of the repository, `make lab` opens `{chapter.as_posix()}` as a notebook in "
            f"JupyterLab; `python -m alexnet book --only {chapter.stem}` rebuilds this page. Its "
            f"parameters (papermill's `-p NAME VALUE`): {names}.\n```")
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["run-note"]})


def stage_notebook(executed: Path, target: Path, chapter: Path, url: str | None, commit: str) -> None:
    """Copy an executed chapter to ``target`` for the build: with a confirmed repository ``url`` the
    install cell first; a chapter under ``notebooks/`` gets its :func:`run_note` after its first text."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    if chapter.parts[0] == "notebooks":
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        first_text = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
        nb.cells.insert(first_text + 1, run_note(chapter, assigned_names(params[0].source) if params else []))
    if url and commit != "unknown":
        nb.cells.insert(0, install_cell(url, commit.removesuffix("-dirty")))
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def toc_files(root: Path = ROOT) -> list[str]:
    """Every ``file:`` entry of ``_toc.yml`` (without suffix), in reading order."""
    toc_path = root / "_toc.yml"
    if not toc_path.exists():
        raise AlexNetError(f"{toc_path} is missing")
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(str(node[key]))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc_path.read_text()))
    return found


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapters that are notebooks (``notebooks/<chapter>.md``), relative to ``root``, in order."""
    return [Path(f).with_suffix(SOURCE_SUFFIX) for f in toc_files(root)
            if is_notebook_source((root / f).with_suffix(SOURCE_SUFFIX))]


def to_ipynb(source: Path, target: Path) -> Path:
    """Convert the MyST Markdown notebook ``source`` to ``target`` (.ipynb) with jupytext."""
    import jupytext

    if source.suffix != SOURCE_SUFFIX:
        raise AlexNetError(f"{source}: a chapter's source is a MyST Markdown notebook (.md), not {source.suffix}")
    if not source.is_file():
        raise AlexNetError(f"{source} does not exist")
    notebook = jupytext.read(source, fmt="md:myst")
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def _finish(target: Path) -> None:
    """Make the executed copy fit for the page: hide papermill's injected-parameters cell, drop paths.

    The injected cell repeats the parameters cell with the values of this build; it gets the
    ``remove-cell`` tag so the page shows the chapter's own parameters cell only. Papermill's
    record of the input and output paths (folders of the machine that built it) is removed.
    """
    import nbformat

    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    pm_meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        pm_meta.pop(key, None)
    nbformat.write(nb, target)


def execute_notebook(source: Path, target: Path, parameters: dict, work: Path | None = None) -> float:
    """Convert ``source`` (.md) to .ipynb and run it with papermill into ``target``.

    Unknown parameters are an error, raised before anything runs. Returns the wall time in
    seconds. A failing cell raises :class:`AlexNetError` naming the chapter, the cell and the
    exception. The converted, unexecuted notebook is written to ``work`` (default: beside
    ``target``, as ``<stem>.input.ipynb``).
    """
    import papermill as pm

    source = Path(source)
    target = Path(target)
    converted = (work / f"{source.stem}.ipynb") if work else target.with_name(f"{source.stem}.input.ipynb")
    to_ipynb(source, converted)
    declared = pm.inspect_notebook(str(converted))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise AlexNetError(f"{source}: unknown parameter(s) {unknown}; it declares {sorted(declared)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(converted), str(target), parameters=parameters, cwd=str(source.parent),
            progress_bar=False, kernel_name="python3",
            # ipykernel warns on every start that its local TCP sockets are unencrypted (and logs the
            # interrupt papermill sends when it shuts a kernel down); the kernel
            # serves only this process, so the warning is noise in the build's one line per chapter
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as err:
        raise AlexNetError(
            f"{source}: cell {err.exec_count} failed: {err.ename}: {err.evalue} (executed copy: {target})"
        ) from None
    seconds = time.perf_counter() - start
    _finish(target)
    return seconds


def data_summary(executed: Path) -> str:
    """What data a chapter ran on, from the notes :func:`alexnet.book.say_data` left in it."""
    import nbformat

    facts = [f for f in page_facts(nbformat.read(executed, as_version=4)) if "data" in f]
    if not facts:
        return "data not stated (no alexnet.book.say_data on the page)"
    kinds = {f["data"] for f in facts}
    kind = "GENERATED data" if "generated" in kinds else "real data"
    return f"{kind}: " + "; ".join(dict.fromkeys(f["what"] for f in facts))


def _repository_words(url: str | None, commit: str) -> str:
    if url is None:
        return (f"{'repository':<20} not confirmed in _config.yml: no launch, repository or issues buttons, "
                "no install cell")
    if commit == "unknown":
        return f"{'repository':<20} {url}: buttons on; no install cell (no git commit to pin)"
    dirty = " (the checkout has uncommitted changes the install will not have)" if is_dirty(commit) else ""
    return f"{'repository':<20} {url}: buttons on; install cell pinned to {commit.removesuffix('-dirty')}{dirty}"


def build(profile: str = "ci", root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Execute the chapters under ``profile`` and build the HTML book; returns ``_build/html``.

    Executed copies are kept in ``_build/executed/<profile>/``. With ``only``, just those chapters
    are executed; every other chapter reuses its executed copy when that is newer than its source,
    and is executed otherwise, so the book never shows a stale or unexecuted page.
    """
    notebooks = toc_notebooks(root)
    unknown = sorted(set(only or ()) - {nb.stem for nb in notebooks})
    if unknown:
        raise AlexNetError(f"--only names no notebook of _toc.yml: {unknown}")
    executed = root / "_build" / "executed" / profile
    work = root / "_build" / "notebooks"
    for nb in notebooks:
        copy = executed / nb.with_suffix(".ipynb")
        fresh = copy.exists() and copy.stat().st_mtime >= (root / nb).stat().st_mtime
        if only is not None and nb.stem not in only and fresh:
            print(f"{nb.stem:<20}  reused  {data_summary(copy)}", flush=True)
            continue
        copy.unlink(missing_ok=True)
        seconds = execute_notebook(root / nb, copy, {"profile": profile}, work=work)
        print(f"{nb.stem:<20} {seconds:5.0f} s  {data_summary(copy)}", flush=True)
    stage = root / "_build" / "source"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in BOOK_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, stage / name)
        elif src.exists():
            shutil.copy2(src, stage / name)
    config = book_config(root)
    (stage / "_config.yml").write_text(yaml.safe_dump(staged_config(config), sort_keys=False), encoding="utf-8")
    url, commit = public_repository(config), git_commit(root)
    print(_repository_words(url, commit), flush=True)
    for nb in notebooks:
        (stage / nb).parent.mkdir(parents=True, exist_ok=True)
        (stage / nb).unlink(missing_ok=True)  # a notebook page under book/ is staged as its executed copy only
        stage_notebook(executed / nb.with_suffix(".ipynb"), stage / nb.with_suffix(".ipynb"), nb, url, commit)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(stage), "--path-output", str(root),
           "--warningiserror", "--quiet"]
    print("building the HTML book ...", flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)  # warnings (stderr) pass through
    if done.returncode != 0:
        print(done.stdout[-4000:], end="")
        raise AlexNetError("jupyter-book build failed (see the warnings above)")
    print(f"{'HTML':<20} {time.perf_counter() - start:5.0f} s", flush=True)
    html = root / "_build" / "html"
    print(f"book: {html / 'index.html'}")
    return html
