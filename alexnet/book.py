"""``python -m alexnet book``: execute every notebook of the book with papermill, then build it.

The notebooks in ``notebooks/`` are kept without outputs. This command executes each one listed
in ``_toc.yml`` under a named profile (``ci``: minutes on two CPU cores; ``full``: a GPU and real
data) into a staging copy of the book (``_build/source``), then runs ``jupyter-book build`` on that
copy with notebook execution off and warnings as errors, so a failing cell fails the build with the
notebook and cell named instead of leaving a stale page. The HTML lands in ``_build/html``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .errors import AlexNetError

ROOT = Path(__file__).resolve().parent.parent
BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib", "book", "results", "_static")


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
    """The notebooks the book is made of, as paths relative to ``root``."""
    return [Path(f).with_suffix(".ipynb") for f in toc_files(root) if (root / f).with_suffix(".ipynb").exists()]


def execute_notebook(source: Path, target: Path, parameters: dict) -> float:
    """Run ``source`` with papermill into ``target``; unknown parameters are an error.

    Returns the wall time in seconds. A failing cell raises :class:`AlexNetError` naming the
    notebook, the cell and the exception.
    """
    import papermill as pm

    declared = pm.inspect_notebook(str(source))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise AlexNetError(f"{source}: unknown parameter(s) {unknown}; it declares {sorted(declared)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(source), str(target), parameters=parameters, cwd=str(source.parent),
            progress_bar=False, kernel_name="python3",
        )
    except pm.PapermillExecutionError as err:
        raise AlexNetError(
            f"{source}: cell {err.exec_count} failed: {err.ename}: {err.evalue} (executed copy: {target})"
        ) from None
    return time.perf_counter() - start


def build(profile: str = "ci", root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Execute the notebooks under ``profile`` and build the HTML book; returns ``_build/html``.

    Executed copies are kept in ``_build/executed/<profile>/``. With ``only``, just those notebooks
    are executed; every other chapter reuses its executed copy when that is newer than its source,
    and is executed otherwise, so the book never shows a stale or unexecuted page.
    """
    notebooks = toc_notebooks(root)
    unknown = sorted(set(only or ()) - {nb.stem for nb in notebooks})
    if unknown:
        raise AlexNetError(f"--only names no notebook of _toc.yml: {unknown}")
    executed = root / "_build" / "executed" / profile
    for nb in notebooks:
        copy = executed / nb
        fresh = copy.exists() and copy.stat().st_mtime >= (root / nb).stat().st_mtime
        if only is not None and nb.stem not in only and fresh:
            print(f"reusing the executed {nb} (profile {profile})", flush=True)
            continue
        print(f"executing {nb} (profile {profile}) ...", flush=True)
        copy.unlink(missing_ok=True)
        seconds = execute_notebook(root / nb, copy, {"profile": profile})
        print(f"  done in {seconds:.1f} s", flush=True)
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
    for nb in notebooks:
        (stage / nb).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed / nb, stage / nb)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(stage), "--path-output", str(root),
           "--warningiserror", "--quiet"]
    print("building the HTML book ...", flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise AlexNetError("jupyter-book build failed (see the warnings above)")
    html = root / "_build" / "html"
    print(f"book: {html / 'index.html'}")
    return html


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("book", help="execute the notebooks with papermill and build the HTML book")
    p.add_argument("--profile", default="ci", choices=("ci", "full"),
                   help="notebook profile: ci (minutes on a CPU) or full (a GPU and real data)")
    p.add_argument("--only", nargs="*", metavar="NOTEBOOK",
                   help="execute only these notebooks (by stem); the others reuse their last executed copy")
    p.set_defaults(func=lambda args: build(args.profile, only=args.only) and 0)
