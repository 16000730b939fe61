"""Building the C++ CPU kernels of this package on first use (:mod:`.lrn_cpu`, :mod:`.sgd_cpu`).

Each kernel is one ``.cpp`` file beside its Python module, compiled by
:func:`torch.utils.cpp_extension.load` (a C++ compiler and ninja; about a minute, once per machine).
The build is cached under torch's extension folder, named after the source, the flags and this
CPU's instruction sets, since it is compiled for them (``-march=native``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["CFLAGS", "cpu_flags", "toolchain_present", "build"]

#: Compiled for this CPU's vector units; square roots without errno so that their loops vectorise.
CFLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fopenmp"]


def cpu_flags() -> str:
    """This CPU's instruction sets (``-march=native`` compiles for them)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _venv_on_path() -> None:
    """ninja installed by pip into this Python's environment is found even when it is not activated."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def toolchain_present() -> bool:
    """Whether a C++ compiler and ninja are on the path (this Python's environment included)."""
    _venv_on_path()
    return shutil.which(os.environ.get("CXX", "c++")) is not None and shutil.which("ninja") is not None


def _load_function():
    """:func:`torch.utils.cpp_extension.load`, imported without its warning that no CUDA runtime is
    found (these kernels are CPU code; the warning would only clutter a chapter's output)."""
    log = logging.getLogger("torch.utils.cpp_extension")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        from torch.utils.cpp_extension import load
    finally:
        log.setLevel(level)
    return load


def build(name: str, source: Path, state: dict) -> ModuleType:
    """The compiled module of ``source``, built on the first call and kept in ``state["module"]``.

    A failed build sets ``state["broken"]`` (so that callers stop asking for it) and raises.
    """
    if "module" not in state:
        load = _load_function()
        _venv_on_path()
        tag = hashlib.sha1((cpu_flags() + " ".join(CFLAGS) + source.read_text()).encode()).hexdigest()[:10]
        try:
            state["module"] = load(name=f"{name}_{tag}", sources=[str(source)], extra_cflags=CFLAGS,
                                   extra_ldflags=["-fopenmp"], verbose=False)
        except Exception:
            state["broken"] = True
            raise
    return state["module"]
