"""Real images are messy (Section 2): odd files work, bad files stop with one line naming them;
the ``prepare`` and ``convert-imagenet-val`` commands."""
import hashlib
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.cli import main
from alexnet.data import BadImageError, build_datasets, make_loader, make_synthetic
from alexnet.bench.data import pipeline_rate
from alexnet.data.imagenet_val import convert_imagenet_val
from alexnet.data.prepare import prepare
from alexnet.errors import AlexNetError


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path_factory.getbasetemp() / "alexnet-cache"))
    monkeypatch.setenv("ALEXNET_WORKERS", "0")


def _photo(h, w, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // max(1, w - 1), yy * 255 // max(1, h - 1), np.full((h, w), 128)], -1)
    return Image.fromarray(np.clip(img + rng.integers(-10, 10, (h, w, 3)), 0, 255).astype(np.uint8))


def _messy(root, bad=False):
    """train/val with grayscale, CMYK, PNG-named-.JPEG, tiny images, hidden and non-image files."""
    for split in ("train", "val"):
        for c in ("a", "b"):
            d = root / split / c
            d.mkdir(parents=True)
            _photo(60, 90, 1).save(d / "rgb.JPEG")
            _photo(70, 50, 2).convert("L").save(d / "gray.JPEG")
            _photo(64, 64, 3).convert("CMYK").save(d / "cmyk.JPEG")
            _photo(50, 80, 4).save(d / "png_named.JPEG", format="PNG")
            _photo(7, 5, 5).save(d / "tiny.JPEG")
            (d / ".DS_Store").write_bytes(b"\x00junk")
            (d / "._rgb.JPEG").write_bytes(b"\x00\x05\x16\x07AppleDouble")
            (d / "notes.txt").write_text("not an image")
            (d / ".hidden").mkdir()
        (root / split / ".git").mkdir()
    if bad:
        good = (root / "train" / "a" / "rgb.JPEG").read_bytes()
        (root / "train" / "a" / "truncated.JPEG").write_bytes(good[: len(good) // 2])
        (root / "train" / "b" / "junk.JPEG").write_bytes(b"this is not a jpeg at all")
    return root


def test_messy_but_valid_images_all_work(tmp_path):
    root = _messy(tmp_path / "messy")
    b = build_datasets(root, resize=40, crop=32)
    assert b.classes == ["a", "b"] and len(b.train) == 10 and len(b.val) == 10
    names = [p.name for p in b.train.raw.paths]
    assert "notes.txt" not in names and "._rgb.JPEG" not in names and ".DS_Store" not in names
    for i in range(len(b.train)):
        x, _ = b.train[i]
        assert x.shape == (3, 32, 32) and torch.isfinite(x).all()
    gray = b.val.raw[names.index("gray.JPEG")]
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])  # grayscale -> RGB
    cmyk = b.val.raw[names.index("cmyk.JPEG")].float()
    rgb = torch.from_numpy(np.array(_photo(64, 64, 3).resize((40, 40), Image.BILINEAR))).permute(2, 0, 1).float()
    assert (cmyk - rgb).abs().mean() < 12  # CMYK converted to the right colours, not inverted


def test_truncated_image_stops_with_one_line_naming_it(tmp_path):
    root = _messy(tmp_path / "bad", bad=True)
    b = build_datasets(root, resize=40, crop=32, mean_image=False, pca_lighting=False)
    idx = [p.name for p in b.train.raw.paths].index("truncated.JPEG")
    with pytest.raises(BadImageError, match="truncated.JPEG") as err:
        b.train[idx]
    assert "\n" not in str(err.value)
    with pytest.raises(BadImageError, match="truncated.JPEG"):  # the mean-image pass meets it first
        build_datasets(root, resize=40, crop=32)


@pytest.mark.slow
def test_bad_image_in_a_worker_process_is_still_one_line(tmp_path):
    root = _messy(tmp_path / "bad", bad=True)
    b = build_datasets(root, resize=40, crop=32, mean_image=False, pca_lighting=False)
    with pytest.raises(BadImageError) as err:
        for _ in make_loader(b.train, 4, train=False, workers=1):
            pass
    assert "\n" not in str(err.value) and ".JPEG" in str(err.value) and "cannot read image" in str(err.value)


def test_skip_bad_reports_count_and_files(tmp_path):
    root = _messy(tmp_path / "bad", bad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = build_datasets(root, resize=40, crop=32, skip_bad=True)
    assert sorted(p.name for p in b.skipped) == ["junk.JPEG", "truncated.JPEG"]
    assert len(b.train) == 10 and any("skipped 2 bad image(s)" in str(w.message) for w in caught)
    assert all(b.train[i][0].shape == (3, 32, 32) for i in range(len(b.train)))


def test_folder_problems_name_the_folder(tmp_path):
    root = _messy(tmp_path / "m")
    (root / "train" / "c").mkdir()
    (root / "val" / "c").mkdir()
    (root / "val" / "c" / "readme.txt").write_text("x")
    with pytest.raises(AlexNetError, match=r"empty class folder .*train/c"):
        build_datasets(root, resize=40, crop=32)
    (root / "val" / "c" / "readme.txt").unlink()
    (root / "val" / "c").rmdir()
    with pytest.raises(AlexNetError, match=r"class mismatch: .*train has 3 classes .*val has 2.*only in train: \['c'\]"):
        build_datasets(root, resize=40, crop=32)
    only_train = tmp_path / "t"
    (only_train / "train" / "a").mkdir(parents=True)
    with pytest.raises(AlexNetError, match=r"missing split: no folder .*t/val or .*t/test"):
        build_datasets(only_train)
    with pytest.raises(AlexNetError, match="does not exist"):
        build_datasets(tmp_path / "absent")


def test_cli_error_is_one_line_without_traceback(tmp_path, capsys):
    root = _messy(tmp_path / "bad", bad=True)
    assert main(["prepare", str(root), str(tmp_path / "out"), "--size", "32", "--workers", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error:")
    assert "truncated.JPEG" in lines[0] and "--skip-bad" in lines[0]
    assert main(["prepare", str(tmp_path / "absent"), str(tmp_path / "o2")]) == 2
    assert "absent does not exist" in capsys.readouterr().err


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_prepare_writes_resumes_and_never_touches_the_source(tmp_path, capsys):
    src = make_synthetic(tmp_path / "src", num_classes=2, train_per_class=3, val_per_class=2, size=48)
    _photo(30, 60).save(src / "train" / "class_00" / "wide.png")
    before = _digest(src)
    dst = tmp_path / "out"
    report = prepare(src, dst, size=32, workers=0, progress=False)
    assert report.written == 11 and report.already_done == 0
    outs = sorted((dst / "train").rglob("*.JPEG")) + sorted((dst / "val").rglob("*.JPEG"))
    assert len(outs) == 11 and (dst / "train" / "class_00" / "wide.JPEG").is_file()
    assert all(Image.open(p).size == (32, 32) for p in outs)
    assert (dst / "SYNTHETIC").is_file() and (dst / "synsets.tsv").is_file()
    # an interrupted run: one output missing, a temporary file left behind
    outs[0].unlink()
    (outs[1].parent / f".{outs[1].name}.abc.tmp").write_bytes(b"partial")
    assert main(["prepare", str(src), str(dst), "--size", "32", "--workers", "0", "--quiet"]) == 0
    assert "1 written, 10 already done, 0 bad" in capsys.readouterr().out
    assert not list(dst.rglob("*.tmp")) and outs[0].is_file()
    assert _digest(src) == before
    for bad_dst in (src, src / "train" / "copy", tmp_path):
        with pytest.raises(AlexNetError, match="refusing to write"):
            prepare(src, bad_dst, workers=0, progress=False)
    b = build_datasets(dst, resize=32, crop=28)
    assert b.synthetic and len(b.train) == 7
    with pytest.raises(AlexNetError, match="holds a 32px copy"):
        prepare(src, dst, size=64, workers=0, progress=False)


def test_prepare_in_parallel_and_skip_bad(tmp_path):
    src = _messy(tmp_path / "bad", bad=True)
    report = prepare(src, tmp_path / "out", size=24, workers=2, skip_bad=True, progress=False)
    assert report.written == 20 and len(report.bad) == 2
    assert any("truncated.JPEG" in line for line in report.bad)


def test_convert_imagenet_val_formats(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    wnids = ["n01440764", "n01443537", "n01484850"]
    truth = [2, 0, 1, 2]
    names = [f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(4)]
    for i, name in enumerate(names):
        _photo(20, 20, i).save(flat / name)
    csv = tmp_path / "LOC_val_solution.csv"
    csv.write_text("ImageId,PredictionString\n" + "".join(
        f"{n[:-5]},{wnids[t]} 1 2 3 4 {wnids[t]} 5 6 7 8\n" for n, t in zip(names, truth)))
    out = tmp_path / "val"
    assert convert_imagenet_val(flat, csv, out) == {"images": 4, "classes": 3, "already_there": 0}
    assert sorted(p.name for p in (out / "n01484850").iterdir()) == [names[0], names[3]]
    assert (flat / names[0]).is_file()  # linked, not moved
    ids = tmp_path / "ILSVRC2012_validation_ground_truth.txt"
    ids.write_text("".join(f"{t + 1}\n" for t in truth))
    syn = tmp_path / "wnids.txt"
    syn.write_text("".join(f"{w} some name\n" for w in wnids))
    assert main(["convert-imagenet-val", str(flat), str(ids), "--out", str(tmp_path / "v2"),
                 "--synsets", str(syn), "--mode", "copy"]) == 0
    assert sorted(p.name for p in (tmp_path / "v2" / "n01440764").iterdir()) == [names[1]]
    pairs = tmp_path / "val.txt"
    pairs.write_text("".join(f"{n} {t}\n" for n, t in zip(names, truth)))
    convert_imagenet_val(flat, pairs, tmp_path / "v3", synsets=syn)
    assert (tmp_path / "v3" / "n01443537" / names[2]).is_file()
    with pytest.raises(AlexNetError, match="pass the devkit's meta.mat"):
        convert_imagenet_val(flat, ids, tmp_path / "v4")
    with pytest.raises(AlexNetError, match="inside the input"):
        convert_imagenet_val(flat, csv, flat / "val")


def test_pipeline_rate_reports_images_per_second(tmp_path):
    root = make_synthetic(tmp_path / "s", num_classes=2, train_per_class=4, val_per_class=1, size=64)
    r = pipeline_rate(root, workers=0, batch_size=4, batches=2, crop=56, resize=64)
    assert r["images"] == 8 and r["images_per_s"] > 0 and r["images_per_s_per_worker"] == r["images_per_s"]
