"""One provenance shape: every writer (training run, experiment, benchmark, export) records
:class:`alexnet.provenance.Provenance`, and the committed results hold it."""
import json
from pathlib import Path

import pytest

from alexnet.errors import AlexNetError
from alexnet.provenance import Provenance, command_line, record

ROOT = Path(__file__).resolve().parent.parent


def test_record_round_trips_and_says_where_it_ran():
    made = record("cpu", "python -m alexnet experiment lrn")
    assert made.device.startswith("CPU ") and "thread(s)" in made.device and made.wall_seconds is None
    assert made.versions["torch"] and made.versions["python"] and made.git_commit and made.date.endswith("+00:00")
    done = made.finished(12.345)
    assert done.wall_seconds == 12.35 and made.wall_seconds is None
    assert Provenance.from_dict(json.loads(json.dumps(done.to_dict()))) == done


def test_a_record_without_its_commit_is_named():
    with pytest.raises(AlexNetError, match="results/x.json: the provenance record lacks git_commit"):
        Provenance.from_dict({"command": "c", "device": "d", "date": "t"}, "results/x.json")


@pytest.mark.parametrize("argv, expected", [
    (["/repo/alexnet/__main__.py", "train", "--epochs", "2"], "python -m alexnet train --epochs 2"),
    (["/venv/bin/alexnet", "bench", "lrn"], "python -m alexnet bench lrn"),
    (["/venv/lib/site-packages/pytest/__main__.py", "-q"], "python -m pytest -q"),
    (["/venv/bin/pytest", "-q"], "pytest -q"),
])
def test_command_line_as_a_user_types_it(argv, expected):
    assert command_line(argv) == expected


def _committed_records():
    for path in sorted((ROOT / "results").glob("*/full.json")):
        yield path, json.loads(path.read_text())["provenance"]
    for path in sorted((ROOT / "results" / "bench").glob("*.json")):
        data = json.loads(path.read_text())
        for i, run in enumerate(data.get("runs", [data])):
            yield path, run["provenance"]
            for name, section in run.get("sections", {}).items():
                if "provenance" in section:
                    yield path, section["provenance"]
    export = json.loads((ROOT / "results" / "imagenette" / "provenance.json").read_text())
    yield "imagenette training", export["training"]["provenance"]
    yield "imagenette export", export["export"]["provenance"]
    yield "imagenette config", json.loads((ROOT / "results" / "imagenette" / "config.json").read_text())["provenance"]


def test_every_committed_result_holds_the_one_shape():
    shape = set(Provenance.__dataclass_fields__)
    seen = 0
    for where, prov in _committed_records():
        assert set(prov) == shape, where
        assert Provenance.from_dict(prov, str(where)).device, where
        seen += 1
    assert seen >= 8


def test_a_rewritten_result_does_not_make_the_checkout_dirty(tmp_path):
    import subprocess

    from alexnet.provenance import git_commit

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "m")
    assert not git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "results" / "x.json").write_text('{"a": 1}')  # an experiment rewriting its own result
    assert not git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path).endswith("-dirty")
