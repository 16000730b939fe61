"""``python scripts/stubbed_python.py -m alexnet ARGS`` (or ``-c CODE``) on a bare GPU image.

The experiment path (``python -m alexnet experiment ...``) never calls pandas, yaml, matplotlib or
tqdm, but other modules of the package import them at the top. Where one is not installed (a
machine with only PyTorch, torchvision, numpy and Pillow), this stands an empty module in for it
and says so on stderr; everything else runs unchanged.
"""
import importlib.machinery
import importlib.util
import runpy
import sys
import types

OPTIONAL = {"pandas": (), "yaml": (), "matplotlib": ("pyplot", "colors", "cm", "figure"), "tqdm": ("auto",),
            "myst_nb": ()}

for name, subs in OPTIONAL.items():
    try:
        missing = importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        print(f"stubbed_python: {name} is not installed; an empty stand-in module is used", file=sys.stderr)
        for full in (name, *(f"{name}.{sub}" for sub in subs)):
            module = types.ModuleType(full)
            module.__spec__ = importlib.machinery.ModuleSpec(full, None)
            sys.modules[full] = module

if len(sys.argv) >= 3 and sys.argv[1] == "-m":
    module = sys.argv[2]
    sys.argv = [f"python -m {module}"] + sys.argv[3:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
elif len(sys.argv) >= 3 and sys.argv[1] == "-c":
    code = sys.argv[2]
    sys.argv = ["-c"] + sys.argv[3:]
    exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
else:
    raise SystemExit("usage: python scripts/stubbed_python.py -m MODULE [ARGS] | -c CODE")
