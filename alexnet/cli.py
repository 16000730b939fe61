"""``python -m alexnet <command>``: the package's command line.

Each command lives in the module that implements it and registers itself through an
``add_parser(subparsers)`` function listed in :data:`COMMAND_MODULES`. Errors about the user's
input (:class:`alexnet.errors.AlexNetError`, ``FileNotFoundError``, ``ValueError``) print one line
naming the culprit and exit with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import AlexNetError

#: Modules that define ``add_parser(subparsers)``; each sets ``func`` on its parser.
COMMAND_MODULES = [
    "alexnet.summary_cmd",
    "alexnet.book",
    "alexnet.train_cmd",
    "alexnet.evaluate_cmd",
    "alexnet.export_run",
    "alexnet.data.commands",
    "alexnet.experiments.command",
    "alexnet.bench",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alexnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (AlexNetError, FileNotFoundError, NotADirectoryError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
