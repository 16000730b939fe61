"""A real JupyterLab saves the chapters unchanged: open each chapter of a fresh clone in the .venv's
JupyterLab (headless Chromium), let the kernel connect, save; type a line into one chapter's
parameters cell, run it, save; then ``git diff`` must show that line only. Not run by CI (it needs a
browser); tests/test_roundtrip.py checks the same round trip without one.

Needs Chromium and chromedriver (Debian: ``apt-get install chromium chromium-driver``) and selenium
in the Python that runs this script (``pip install selenium``; the project does not depend on it)::

    python scripts/lab_roundtrip.py            # every chapter; exit 1 when git diff shows more
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parent.parent
PORT, TOKEN = 8899, "roundtrip"
TYPED = 'typed = "in JupyterLab"  # the one line typed in the browser'


def start_lab(clone: Path, settings: Path) -> subprocess.Popen:
    """The .venv's JupyterLab on ``clone/notebooks``, with no user-level settings of this machine."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(settings / "config"), OMP_NUM_THREADS="1",
               JUPYTERLAB_SETTINGS_DIR=str(settings / "user"), JUPYTERLAB_WORKSPACES_DIR=str(settings / "ws"))
    lab = subprocess.Popen([str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", "--allow-root",
                            f"--port={PORT}", f"--ServerApp.token={TOKEN}", "--ServerApp.ip=127.0.0.1",
                            f"--notebook-dir={clone / 'notebooks'}"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(15)
    return lab


def browser() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--no-first-run"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(cond, what: str, timeout: float = 180):
    start = time.time()
    while time.time() - start < timeout:
        try:
            if found := cond():
                return found
        except Exception:  # noqa: BLE001 - the page is still being drawn
            pass
        time.sleep(0.5)
    raise TimeoutError(what)


def keys(drv, *sequence) -> None:
    chain = ActionChains(drv)
    for key in sequence:
        chain = chain.key_down(key[1]).send_keys(key[0]).key_up(key[1]) if isinstance(key, tuple) else chain.send_keys(key)
    chain.perform()


def first_code_cell(drv):
    """The chapter's first code cell, its parameters cell (found afresh: JupyterLab redraws cells)."""
    return drv.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell")[0]


def save(drv) -> None:
    first_code_cell(drv).find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
    keys(drv, ("s", Keys.CONTROL))
    time.sleep(3)


def open_and_save(drv, chapter: str, type_line: bool) -> str:
    """Open ``chapter`` as JupyterLab does by default, wait for its kernel, save (and maybe edit, run, save)."""
    drv.get(f"http://127.0.0.1:{PORT}/lab/tree/{chapter}?token={TOKEN}&reset")
    wait(lambda: first_code_cell(drv), f"{chapter} as a notebook")
    wait(lambda: "AlexNet" in drv.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar .jp-KernelName").text
         and "Idle" in drv.find_element(By.CSS_SELECTOR, "#jp-main-statusbar").text, f"{chapter}: kernel idle")
    time.sleep(2)
    save(drv)
    if not type_line:
        return "opened as a notebook, kernel idle, saved"
    first_code_cell(drv).find_element(By.CSS_SELECTOR, ".cm-content").click()
    keys(drv, (Keys.END, Keys.CONTROL), Keys.ENTER, TYPED, (Keys.ENTER, Keys.SHIFT))
    prompt = wait(lambda: (p := first_code_cell(drv).find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip())
                  not in ("[ ]:", "[*]:", "") and p, f"{chapter}: the cell ran")
    save(drv)
    return f"typed a line into the parameters cell, ran it ({prompt}), saved"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="lab-roundtrip-"))
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    chapters = sorted(p.name for p in (clone / "notebooks").glob("*.md"))
    lab, drv = start_lab(clone, work), None
    try:
        drv = browser()
        for i, chapter in enumerate(chapters):
            print(f"{chapter}: {open_and_save(drv, chapter, type_line=i == 0)}", flush=True)
    finally:
        if drv is not None:
            drv.quit()
        lab.terminate()
        lab.wait(30)
    diff = subprocess.run(["git", "-C", str(clone), "diff", "-U0"], capture_output=True, text=True).stdout
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    print("git diff:", *changed, sep="\n  ")
    return 0 if changed == [f"+{TYPED}"] else 1


if __name__ == "__main__":
    sys.exit(main())
