"""``python -m alexnet <command>``: the package's command line.

One module per command, ``alexnet/cli/<command>.py``, each with ``add_parser(subparsers)`` (the
command's options, registered here through :data:`COMMAND_MODULES`) and ``run(args)`` (what it
does, importing the library only when it runs). Errors about the user's
input (:class:`alexnet.errors.AlexNetError`, ``FileNotFoundError``, ``ValueError``) print one line
naming the culprit and exit with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..allocator import keep_large_blocks_in_heap
from ..errors import AlexNetError

#: The command modules, in the order ``--help`` lists them; each sets ``func=run`` on its parser.
COMMAND_MODULES = [
    "alexnet.cli.summary",
    "alexnet.cli.book",
    "alexnet.cli.train",
    "alexnet.cli.evaluate",
    "alexnet.cli.predict",
    "alexnet.cli.export_run",
    "alexnet.cli.prepare",
    "alexnet.cli.convert_imagenet_val",
    "alexnet.cli.data_stats",
    "alexnet.cli.pack_images",
    "alexnet.cli.experiment",
    "alexnet.cli.bench",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alexnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_large_blocks_in_heap()  # every command: CPU steps without a page fault per 4 KiB (allocator.py)
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
