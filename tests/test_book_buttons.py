"""The repository's address in the book (alexnet.book.tooling.build): written once, in _config.yml, and used
only when it is confirmed. A one-chapter book is built both ways and its page and download read."""
import re
import shutil
import subprocess

import nbformat
import pytest
import yaml

from alexnet.book import ROOT
from alexnet.book.tooling.build import book_config, build, install_cell, public_repository, staged_config

URL = "https://github.com/example-owner/example-repo"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A tiny chapter

Its text.

```{code-cell} ipython3
:tags: [parameters, remove-cell]

profile = "ci"
steps = 2
```

```{code-cell} ipython3
:tags: [remove-cell]

import alexnet.book
alexnet.book.setup()
```

```{code-cell} ipython3
print(profile, steps)
```
"""


def test_the_address_is_written_once_and_not_confirmed():
    config = book_config()
    address = config["repository"]["url"]
    assert address.startswith("https://") and public_repository(config) is None
    found = subprocess.run(["git", "-C", str(ROOT), "grep", "-l", "--fixed-strings", address],
                           capture_output=True, text=True).stdout.split()
    assert found == ["_config.yml"]


@pytest.mark.parametrize("repository, public", [
    ({"url": URL, "confirmed": True}, URL), ({"url": URL, "confirmed": False}, None), ({"url": URL}, None),
    ({"url": "", "confirmed": True}, None), ({}, None),
])
def test_only_a_confirmed_address_is_public(repository, public):
    config = {"repository": repository, "html": {"use_repository_button": True}}
    assert public_repository(config) == public
    staged = staged_config(config)
    assert "confirmed" not in staged["repository"]
    assert staged["repository"]["url"] == (URL if public else "")
    assert staged["html"]["use_repository_button"] is bool(public)


def test_the_install_cell_is_pinned_and_uses_no_shell():
    cell = install_cell(URL, COMMIT)
    assert cell.metadata.tags == ["remove-cell"]
    assert f'"{URL}"' in cell.source and f'"checkout", "-q", "{COMMIT}"' in cell.source
    assert "shell" not in cell.source and "--depth" not in cell.source
    compile(cell.source, "install", "exec")


def _tiny_book(tmp_path, confirmed: bool):
    config = book_config()
    config["repository"].update(url=URL, confirmed=confirmed)
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: notebooks/tiny\n")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    if not (tmp_path / "notebooks" / "tiny.md").exists():
        (tmp_path / "notebooks" / "tiny.md").write_text(CHAPTER)


@pytest.mark.slow
def test_the_book_links_and_installs_only_a_confirmed_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALEXNET_GIT_COMMIT", COMMIT)  # tmp_path is no git checkout
    seen = {}
    for confirmed in (False, True):
        _tiny_book(tmp_path, confirmed)
        html = build("ci", root=tmp_path)
        page = (html / "notebooks" / "tiny.html").read_text()
        download = nbformat.read(tmp_path / "_build" / "html" / "_sources" / "notebooks" / "tiny.ipynb",
                                 as_version=4)
        seen[confirmed] = page, download, capsys.readouterr().out
    page, download, said = seen[False]
    assert URL not in page and "mybinder" not in page and "github.com" not in page
    assert "btn-source-repository-button" not in page and "btn-launch" not in page
    assert not any("pip" in c.source for c in download.cells)
    assert "not confirmed in _config.yml" in said
    page, download, said = seen[True]
    assert URL in page and "mybinder.org" in page and "btn-source-repository-button" in page
    assert "notebooks/tiny.md" in page  # the launch link opens the chapter's source
    assert download.cells[0].source == install_cell(URL, COMMIT).source
    assert f"install cell pinned to {COMMIT}" in said
    for page, _, _ in seen.values():  # both ways the page says how to run it locally, and with what
        text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
        assert "make lab opens notebooks/tiny.md as a notebook in JupyterLab" in text
        assert "parameters (papermill’s -p NAME VALUE ): profile , steps" in text
