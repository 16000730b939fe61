"""Named parameter profiles for the notebooks and experiments.

Every notebook has one papermill ``parameters`` cell holding ``profile = "ci"`` and optional
overrides (``None`` means "take the profile's value"). The profile tables live in the package,
next to the code they configure, and :func:`resolve` turns ``(profile, overrides)`` into the final
settings, failing with a message that names the parameter for an unknown name, a wrong type or an
impossible value.

* ``ci``: minutes on two CPU cores (what ``make book`` and CI run).
* ``full``: a GPU and real data; its results are committed under ``results/``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import AlexNetError

__all__ = ["resolve", "PROFILE_NAMES"]

PROFILE_NAMES = ("ci", "full")


def resolve(
    profiles: Mapping[str, Mapping[str, Any]],
    profile: str,
    checks: Mapping[str, Callable[[Any], bool]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The settings of ``profile`` with the non-``None`` ``overrides`` applied.

    ``checks`` maps a setting to a predicate it must satisfy (e.g. ``lambda v: v > 0``).
    Raises :class:`AlexNetError` for an unknown profile, an unknown override, a value of the wrong
    type or one that fails its check.
    """
    if profile not in profiles:
        raise AlexNetError(f"unknown profile {profile!r}; choose one of {sorted(profiles)}")
    settings = dict(profiles[profile])
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in settings:
            raise AlexNetError(f"unknown parameter {name!r}; the parameters are {sorted(settings)}")
        default = settings[name]
        if default is not None and not _same_kind(default, value):
            raise AlexNetError(
                f"parameter {name!r} must be {type(default).__name__}, got {value!r} ({type(value).__name__})"
            )
        settings[name] = value
    for name, ok in (checks or {}).items():
        if not ok(settings[name]):
            raise AlexNetError(f"parameter {name!r} has an impossible value: {settings[name]!r}")
    return settings


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))
