"""The committed experiment records stay reusable: every record under results/ is keyed by the
in-memory loop's settings (``asdict`` of its config) and the network's arguments, so renaming,
adding or removing a setting would silently orphan hours of committed training (a rerun would
train everything again). These tests fail first."""
import json
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from alexnet.experiments.in_memory import InMemoryConfig
from alexnet.small_nets import CifarNet

RESULTS = Path(__file__).resolve().parent.parent / "results"
RECORDS = sorted(RESULTS.glob("*/*.records.jsonl"))


def _entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not RECORDS, reason="no committed records")
@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_keys_are_what_the_current_code_would_write(path):
    entries = _entries(path)
    if entries and "net" not in entries[0]["key"]:  # the Imagenette claims: streaming-loop runs
        return _check_streaming_keys(path, entries)
    names = {f.name for f in fields(InMemoryConfig)}
    for n, entry in enumerate(entries, 1):
        train = entry["key"]["train"]
        assert set(train) == names, f"{path}: line {n}: settings {sorted(set(train) ^ names)} differ from the loop's"
        assert asdict(InMemoryConfig(**train)) == train, f"{path}: line {n}: the key does not round-trip"
        CifarNet(**entry["key"]["net"])  # the network arguments are still accepted
        assert {"experiment", "data", "device_type"} <= set(entry["context"]), f"{path}: line {n}: context"


def _check_streaming_keys(path: Path, entries: list[dict]) -> None:
    """An Imagenette record's key is the streaming loop's settings but how it is computed
    (alexnet.experiments.imagenette._key): renaming a setting of TrainConfig would orphan it."""
    from alexnet.experiments.imagenette import _ADDED_LATER, _SYSTEM_KEYS, _key
    from alexnet.training import TrainConfig

    names = {f.name for f in fields(TrainConfig)} - set(_SYSTEM_KEYS)
    for n, entry in enumerate(entries, 1):
        train, key = entry["key"]["train"], entry["key"]
        missing = names - set(train) - set(_ADDED_LATER)  # a setting added later is named only off its default
        assert not missing and set(train) <= names, f"{path}: line {n}: settings {sorted(set(train) ^ names)} differ"
        again = _key(key["variant"], key["seed"], TrainConfig(**train))  # still accepted, and the same key again
        assert again == key, f"{path}: line {n}: the key does not round-trip"
        assert (path.parent.parent / entry["record"]["probs"]).exists(), f"{path}: line {n}: softmax outputs missing"
