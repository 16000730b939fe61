"""Set-up files agree with each other: environment.yml and pyproject.toml name the same packages."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_name(r) for r in reqs}


def environment_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name = _name(dep)
            if name not in NOT_PACKAGES:
                names.add(CONDA_TO_PIP.get(name, name))
        elif isinstance(dep, dict):  # pip: packages conda-forge does not have (and the package itself)
            names |= {_name(d) for d in dep.get("pip", []) if not d.startswith("-")}
    return names


def test_environment_yml_and_pyproject_name_the_same_packages():
    assert environment_packages() == pyproject_packages()


def test_environment_yml_installs_the_package_and_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    pip_part = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert "-e ." in pip_part


def test_jupyter_book_pinned_below_2():
    deps = [d for extra in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"].values()
            for d in extra]
    assert any(d.replace(" ", "") == "jupyter-book>=1.0.4,<2" for d in deps)


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages ``path`` imports, except imports guarded by ``except ImportError`` (optional
    ones that say what to install)."""
    import ast

    tree = ast.parse(path.read_text())
    guarded = set()
    for node in ast.walk(tree):
        caught = {h.type.id for h in getattr(node, "handlers", []) if isinstance(h.type, ast.Name)}
        if isinstance(node, ast.Try) and caught & {"ImportError", "ModuleNotFoundError", "Exception"}:
            guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_library_needs_only_its_dependencies_and_the_plots_extra():
    """Outside the book layer every third-party import is a core dependency, or (figures and tables)
    one of the ``plots`` extra; the book layer may use the ``book`` extra as well."""
    import sys

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_to_module = {"pillow": "PIL", "pyyaml": "yaml", "scikit-image": "skimage", "jupyter-book": "jupyter_book",
                     "django-static-mathjax": "mathjax"}
    modules = lambda reqs: {pip_to_module.get(_name(r), _name(r).replace("-", "_")) for r in reqs}  # noqa: E731
    core = modules(project["dependencies"])
    plots = modules(project["optional-dependencies"]["plots"])
    book = modules(project["optional-dependencies"]["book"]) | {  # and what those bring with them
        "IPython", "myst_nb", "sphinx", "docutils", "nbformat", "nbclient", "matplotlib_inline"}
    assert core == {"torch", "torchvision", "numpy", "PIL", "tqdm", "yaml"}
    assert plots == {"matplotlib", "pandas"}
    for path in sorted((ROOT / "alexnet").rglob("*.py")):
        third_party = {m for m in _imported_packages(path) if m not in sys.stdlib_module_names and m != "alexnet"}
        extra = third_party - core - plots
        if "book" in path.relative_to(ROOT / "alexnet").parts:
            extra -= book
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}, which no dependency provides"
