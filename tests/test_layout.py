"""The package's layout keeps its promises: the library imports torch, torchvision, numpy and Pillow
only, nothing outside the book layer imports it, and the README's layout names the folders there are."""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "alexnet"
#: Loaded only by the book layer (or lazily, inside the functions that need them).
HEAVY = ("pandas", "matplotlib", "yaml", "tqdm", "myst_nb", "IPython", "papermill", "jupytext")
CORE = ["alexnet", "alexnet.training", "alexnet.data", "alexnet.experiments", "alexnet.evaluate", "alexnet.bench",
        "alexnet.kernels", "alexnet.provenance", "alexnet.qualitative", "alexnet.export_run", "alexnet.cli"]


def _added_by_each(modules: list[str]) -> dict[str, list[str]]:
    """In one fresh interpreter: the HEAVY packages each module's import adds, after torch,
    torchvision, numpy and Pillow (torch itself may load some: torch.hub imports tqdm when present)."""
    code = f"""
import importlib, json, sys
import torch, torchvision, numpy, PIL
heavy = {HEAVY!r}
def loaded():
    return {{m.split('.')[0] for m in sys.modules}} & set(heavy)
before, added = loaded(), {{}}
for name in {modules!r}:
    importlib.import_module(name)
    now = loaded()
    added[name] = sorted(now - before)
    before = now
print(json.dumps(added))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_core_imports_load_no_book_dependencies():
    added = _added_by_each(CORE)
    assert {m: a for m, a in added.items() if a} == {}


def test_import_alexnet_loads_neither_pandas_nor_matplotlib():
    code = "import sys, alexnet; print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'matplotlib'}))"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> list[str]:
    """Absolute names of the alexnet modules ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package[:len(package) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return [n for n in names if n == "alexnet" or n.startswith("alexnet.")]


def test_nothing_outside_the_book_layer_imports_it():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "book" or rel == Path("cli/book.py"):  # the `book` command runs the build
            continue
        offenders += [f"{rel}: {n}" for n in _imports(path) if n == "alexnet.book" or n.startswith("alexnet.book.")]
    assert not offenders


def test_readme_layout_matches_the_tree():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\s*(alexnet/[\w/]*?)/?\s{2,}", section, flags=re.M))
    named = {n.rstrip("/") for n in named}
    folders = {str(p.relative_to(ROOT)) for p in [PACKAGE, *PACKAGE.iterdir()] if p.is_dir() and p.name != "__pycache__"}
    assert named == folders


def test_command_line_works_without_the_book_dependencies():
    """What ``scripts/gpu_*.sh`` rely on: on a machine with only torch, torchvision, numpy and Pillow,
    ``python -m alexnet`` builds its parser and an experiment runs (here: its ``--help``)."""
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {HEAVY!r}:
            raise ImportError(f'{{name}} is blocked')
sys.meta_path.insert(0, Block())
from alexnet.cli import build_parser
build_parser()
from alexnet.cli import main
sys.exit(main(['experiment', '--help']))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "usage: " in out.stdout
