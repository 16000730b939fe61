"""``python -m alexnet train``: train with the paper's recipe (Section 5); every setting is a flag.

Settings come, in increasing priority, from the defaults (the paper's), from ``--profile`` (the
Section 5 chapter's ``ci`` or ``full`` settings), from ``--preset NAME`` (a settings file shipped in
``alexnet/training/presets/``, e.g. ``imagenette``: the paper's recipe on Imagenette, each difference from
the paper stated with its reason), from ``--config FILE`` (YAML or JSON, keys as the flags with
``-`` or ``_``), and from flags on the command line. With
``--resume`` the run folder's saved ``config.json`` replaces the defaults, so ``python -m alexnet
train --out RUN --resume`` is enough to continue a run.

Several processes (``torchrun --nproc_per_node=N -m alexnet train ...``) train one model with
DistributedDataParallel; see :mod:`alexnet.training.distributed` for several machines.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from ..errors import AlexNetError
from ..training import TrainConfig, train
from ..training.config import TRAINING_PROFILES, load_preset, preset_names

GROUPS = {"data": "data (Sections 2, 4.1)", "model": "model (Section 3)",
          "optimisation": "optimisation (Section 5)", "system": "system"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _int_or_none(text: str) -> int | None:
    return None if text.lower() in ("none", "null", "") else int(text)


def _str_or_none(text: str) -> str | None:
    return None if text.lower() in ("none", "null", "") else text


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`TrainConfig` field, its default shown in ``--help``.

    Flags default to ``argparse.SUPPRESS`` so that only the ones given on the command line
    override the config file or the resumed run.
    """
    hints = typing.get_type_hints(TrainConfig)
    groups = {k: parser.add_argument_group(v) for k, v in GROUPS.items()}
    for f in dataclasses.fields(TrainConfig):
        meta = dict(f.metadata)
        if not meta.pop("cli", True):  # set by presets and config files only
            continue
        group = groups[meta.pop("group", "system")]
        help_text = meta.pop("help")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "help": f"{help_text} (default: {shown})"}
        hint = hints[f.name]
        args = typing.get_args(hint)
        if hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif "nargs" in meta:
            kwargs.update(nargs=meta.pop("nargs"), type=int, metavar="N")
        elif hint is int or hint is float:
            kwargs["type"] = hint
        elif int in args and type(None) in args:
            kwargs["type"] = _int_or_none
        elif str in args and type(None) in args:
            kwargs["type"] = _str_or_none
        if "choices" in meta:
            kwargs["choices"] = meta.pop("choices")
        group.add_argument(_flag(f.name), dest=f.name, **kwargs)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train AlexNet with the paper's recipe (Section 5)",
        description=__doc__.split("\n\n")[0] + " Run folder: config.json, metrics.jsonl, last.pt, best.pt, "
        "summary.json.",
    )
    p.add_argument("--config", metavar="FILE", help="YAML or JSON file of settings (flags override it)")
    p.add_argument("--profile", choices=("ci", "full"), default=None,
                   help="start from the settings of the Section 5 chapter's profile (alexnet.training.config): "
                        "ci (a slim net on generated data, minutes on a CPU) or full (the paper on ImageNet) "
                        "(default: none, i.e. the paper's defaults below)")
    p.add_argument("--preset", metavar="NAME", default=None,
                   help=f"start from a named preset in alexnet/training/presets/ ({', '.join(preset_names()) or 'none'}); "
                        "--config and flags override it (default: none)")
    add_config_arguments(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults (or the resumed run's config) <- config file <- command-line flags."""
    names = set(TrainConfig.field_names())
    given = {k: v for k, v in vars(args).items() if k in names}
    from_file = load_preset(args.preset) if getattr(args, "preset", None) else {}
    if getattr(args, "config", None):
        from_file.update(TrainConfig.from_file(args.config))
    values: dict[str, Any] = {}
    if getattr(args, "profile", None):
        values.update({k: v for k, v in TRAINING_PROFILES[args.profile].items() if k in names})
    if given.get("resume", from_file.get("resume", False)):
        out = given.get("out", from_file.get("out"))
        if out is None:
            raise AlexNetError("--resume needs --out RUN_DIR (the run folder to continue)")
        saved = Path(out) / "config.json"
        if saved.exists():
            try:
                values.update(json.loads(saved.read_text())["config"])
            except (ValueError, KeyError) as err:
                raise AlexNetError(f"{saved} is not a run configuration ({err})") from None
    values.update(from_file)
    values.update(given)
    return TrainConfig.from_dict(values, "settings")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        train(config)
    except TypeError as err:  # a wrongly typed value from a config file
        raise AlexNetError(f"bad setting: {err}") from None
    return 0
