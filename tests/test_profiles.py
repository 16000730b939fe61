import pytest

from alexnet.errors import AlexNetError
from alexnet.profiles import resolve

P = {"ci": {"epochs": 2, "lr": 0.01, "towers": True}, "full": {"epochs": 90, "lr": 0.01, "towers": True}}


def test_resolve_applies_profile_and_overrides():
    assert resolve(P, "full")["epochs"] == 90
    assert resolve(P, "ci", epochs=5, lr=None)["epochs"] == 5
    assert resolve(P, "ci", lr=1)["lr"] == 1


@pytest.mark.parametrize("profile, kw, match", [
    ("gpu", {}, "unknown profile 'gpu'"),
    ("ci", {"epoch": 3}, "unknown parameter 'epoch'"),
    ("ci", {"epochs": "3"}, "'epochs' must be int"),
    ("ci", {"towers": 1}, "'towers' must be bool"),
])
def test_resolve_names_the_culprit(profile, kw, match):
    with pytest.raises(AlexNetError, match=match):
        resolve(P, profile, **kw)


def test_resolve_checks_impossible_values():
    with pytest.raises(AlexNetError, match="impossible value: -1"):
        resolve(P, "ci", {"epochs": lambda v: v > 0}, epochs=-1)
