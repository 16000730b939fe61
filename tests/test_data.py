"""The data API (Sections 2 and 4.1): generated data, the paper's transforms, statistics, loaders."""
import json
import pickle

import numpy as np
import pytest
import torch

from alexnet.data import (
    IMAGENET_PCA, CentreCrop, PCALighting, RandomCropFlip, TenCrop, augmentation_factor, build_datasets,
    build_eval_dataset, make_loader, make_synthetic, pca_lighting, resize_centre_crop, resolve_data_root,
)
from alexnet.data.stats import PCAStats, align_signs
from alexnet.errors import AlexNetError


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path_factory.getbasetemp() / "alexnet-cache"))
    monkeypatch.setenv("ALEXNET_WORKERS", "0")
    monkeypatch.delenv("ALEXNET_DATA", raising=False)


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("syn") / "synthetic", num_classes=4, train_per_class=8,
                          val_per_class=3, size=40, seed=1)


def test_make_synthetic_layout_marker_and_idempotence(syn):
    files = sorted((syn / "train").rglob("*.JPEG"))
    assert len(files) == 32 and len(list((syn / "val").rglob("*.JPEG"))) == 12
    assert (syn / "SYNTHETIC").is_file() and files[0].read_bytes()[:2] == b"\xff\xd8"
    before = [f.stat().st_mtime_ns for f in files]
    assert make_synthetic(syn, num_classes=4, train_per_class=8, val_per_class=3, size=40, seed=1) == syn
    assert [f.stat().st_mtime_ns for f in files] == before


def test_make_synthetic_replaces_other_settings_and_refuses_real_data(tmp_path):
    root = make_synthetic(tmp_path / "s", num_classes=2, train_per_class=2, val_per_class=1, size=16)
    make_synthetic(root, num_classes=3, train_per_class=1, val_per_class=1, size=16)
    assert len(list((root / "train").iterdir())) == 3
    (tmp_path / "real" / "train" / "cat").mkdir(parents=True)
    with pytest.raises(AlexNetError, match="did not write"):
        make_synthetic(tmp_path / "real")


def test_synthetic_classes_are_learnable(syn):
    b = build_datasets(syn, resize=40, crop=32, augment=False, pca_lighting=False)
    xs = torch.stack([x for x, _ in b.train]).flatten(1)
    ys = torch.tensor(b.train.targets)
    centroids = torch.stack([xs[ys == c].mean(0) for c in range(4)])
    val_x = torch.stack([x for x, _ in b.val]).flatten(1)
    pred = torch.cdist(val_x, centroids).argmin(1)
    assert (pred == torch.tensor(b.val.targets)).float().mean() >= 0.9


def test_build_datasets_shapes_labels_and_description(syn):
    b = build_datasets(syn, resize=40, crop=32)
    assert b.synthetic and "SYNTHETIC" in b.description and "32 train / 12 val" in b.description
    assert b.classes == [f"class_{c:02d}" for c in range(4)] and b.class_names[1] == "synthetic pattern 1"
    assert b.train.class_names == b.val.class_names == b.class_names
    x, y = b.train[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and y == 0
    assert b.val[len(b.val) - 1][1] == 3 and b.mean.shape == (3, 40, 40) and b.pca is not None
    assert b.val[0][0].shape == (3, 32, 32)


def test_mean_image_is_the_pixel_mean_and_is_cached(syn, monkeypatch):
    b = build_datasets(syn, resize=40, crop=32, pca_lighting=False)
    from alexnet.data.images import load_image
    direct = torch.stack([resize_centre_crop(load_image(p), 40).double() for p in sorted((syn / "train").rglob("*.JPEG"))])
    assert torch.allclose(b.mean.double(), direct.mean(0), atol=1e-3)
    records = list((syn / ".alexnet-cache").glob("mean-40-*.json"))
    assert records and json.loads(records[0].read_text())["images"] == 32
    import alexnet.data.stats as stats
    monkeypatch.setattr(stats, "_raw_loader", lambda *a, **k: pytest.fail("recomputed a cached mean"))
    assert torch.equal(build_datasets(syn, resize=40, crop=32, pca_lighting=False).mean, b.mean)


def test_statistics_go_to_the_cache_folder_when_the_data_is_read_only(syn, monkeypatch, tmp_path):
    import alexnet.data.cache as cache
    monkeypatch.setattr(cache, "_writable", lambda folder: False)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "c"))
    build_datasets(syn, resize=24, crop=20)
    assert list((tmp_path / "c" / "stats").rglob("mean-24-*.pt")) and list((tmp_path / "c" / "stats").rglob("pca-24-*.pt"))
    assert not list((syn / ".alexnet-cache").glob("mean-24-*"))


def test_pca_matches_numpy_on_the_documented_sample(syn):
    b = build_datasets(syn, resize=40, crop=32)
    from alexnet.data.images import load_image
    px = torch.cat([resize_centre_crop(load_image(p), 40)[:, ::4, ::4].reshape(3, -1).T
                    for p in sorted((syn / "train").rglob("*.JPEG"))]).double().numpy() / 255
    vals, vecs = np.linalg.eigh(np.cov(px.T, bias=True))
    assert np.allclose(b.pca.eigvals.numpy(), vals[::-1], rtol=1e-3, atol=1e-6)
    got = b.pca.eigvecs.double()
    assert torch.allclose(got.T @ got, torch.eye(3, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(align_signs(got, torch.from_numpy(vecs[:, ::-1].copy())).abs(),
                          torch.from_numpy(np.abs(vecs[:, ::-1])), atol=1e-3)
    assert b.pca.pixels == 32 * 10 * 10 and b.pca.images == 32


def test_resize_centre_crop_shorter_side_and_tiny_images():
    img = torch.arange(2 * 100 * 50, dtype=torch.float32).reshape(2, 1, 100, 50).expand(2, 3, 100, 50)
    out = resize_centre_crop(img, 50)
    assert out.shape == (2, 3, 50, 50) and torch.equal(out, img[..., 25:75, :])
    tiny = torch.randint(0, 255, (3, 7, 10), dtype=torch.uint8)
    assert resize_centre_crop(tiny, 32).shape == (3, 32, 32)


def test_random_crop_flip_is_a_mean_subtracted_patch_or_its_mirror():
    torch.manual_seed(0)
    img = torch.randint(0, 256, (3, 12, 12), dtype=torch.uint8)
    mean = torch.rand(3, 12, 12) * 255
    tf = RandomCropFlip(mean, 8)
    centred = img.float() - mean
    patches = {(t, l): centred[:, t:t + 8, l:l + 8] for t in range(5) for l in range(5)}
    seen, flips = set(), 0
    for _ in range(200):
        x = tf(img)
        match = [k for k, p in patches.items() if torch.allclose(x, p)]
        mirror = [k for k, p in patches.items() if torch.allclose(x, p.flip(-1))]
        assert match or mirror
        seen.update(match or mirror)
        flips += bool(mirror) and not match
    assert len(seen) == 25 and 60 < flips < 140
    assert torch.allclose(CentreCrop(mean, 8)(img), patches[(2, 2)])


def test_scale_one_gives_unit_range_values():
    img = torch.full((3, 8, 8), 255, dtype=torch.uint8)
    assert torch.allclose(CentreCrop(torch.zeros(3, 1, 1), 4, scale=1.0)(img), torch.ones(3, 4, 4))
    assert torch.allclose(CentreCrop(torch.zeros(3, 1, 1), 4)(img), torch.full((3, 4, 4), 255.0))


def test_ten_crop_corners_centre_and_mirrors():
    img = torch.randint(0, 256, (3, 10, 10), dtype=torch.uint8)
    v = TenCrop(torch.zeros(3, 1, 1), 6)(img)
    f = img.float()
    assert v.shape == (10, 3, 6, 6)
    assert torch.equal(v[0], f[:, :6, :6]) and torch.equal(v[3], f[:, 4:, 4:]) and torch.equal(v[4], f[:, 2:8, 2:8])
    assert all(torch.equal(v[i + 5], v[i].flip(-1)) for i in range(5))


def test_pca_lighting_adds_the_papers_offset_to_every_pixel():
    x = torch.zeros(3, 4, 5)
    alpha = torch.tensor([0.1, -0.2, 0.05])
    out = pca_lighting(x, IMAGENET_PCA.eigvals, IMAGENET_PCA.eigvecs, alpha)
    expected = IMAGENET_PCA.eigvecs @ (alpha * IMAGENET_PCA.eigvals)
    assert torch.allclose(out, expected.view(3, 1, 1).expand(3, 4, 5))
    torch.manual_seed(0)
    stats = PCAStats(torch.tensor([1.0, 0.0, 0.0]), torch.eye(3))
    shifts = torch.stack([PCALighting(stats, std=0.1, scale=1.0)(x)[0, 0, 0] for _ in range(2000)])
    assert abs(shifts.std().item() - 0.1) < 0.01  # alpha ~ N(0, 0.1), drawn afresh every call
    assert augmentation_factor() == 2048


def test_eval_dataset_ten_crop_and_mean_options(syn, tmp_path):
    ds = build_eval_dataset(syn, resize=40, crop=32, ten_crop=True)
    x, y = ds[5]
    assert x.shape == (10, 3, 32, 32) and y == 1 and "SYNTHETIC" in ds.description
    given = torch.full((3, 1, 1), 1000.0)
    assert build_eval_dataset(syn, resize=40, crop=32, mean_image=given)[0][0].max() < -700
    val_only = tmp_path / "v"
    (val_only / "val").mkdir(parents=True)
    import shutil
    shutil.copytree(syn / "val" / "class_00", val_only / "val" / "class_00")
    with pytest.raises(AlexNetError, match="needs the training split"):
        build_eval_dataset(val_only, resize=40, crop=32)
    assert len(build_eval_dataset(val_only, resize=40, crop=32, mean_image=False)) == 3


@pytest.mark.parametrize("resize, crop", [(32, 28), (80, 67)])
def test_small_scale_sizes(syn, resize, crop):
    b = build_datasets(syn, resize=resize, crop=crop, max_per_class=2, pca_lighting=False)
    assert b.train[0][0].shape == (3, crop, crop) and len(b.train) == 8 and b.mean.shape == (3, resize, resize)


def test_impossible_sizes_are_named(syn):
    with pytest.raises(AlexNetError, match="crop=50"):
        build_datasets(syn, resize=40, crop=50)


def test_make_loader_defaults_and_seeded_order(syn):
    b = build_datasets(syn, resize=40, crop=32, pca_lighting=False)
    l1, l2 = make_loader(b.train, 8, train=True, seed=3), make_loader(b.train, 8, train=True, seed=3)
    assert l1.drop_last and l1.pin_memory == torch.cuda.is_available() and l1.num_workers == 0
    o1 = [y.tolist() for _, y in l1]
    assert o1 == [y.tolist() for _, y in l2] and len(o1) == 4
    assert o1 != [y.tolist() for _, y in make_loader(b.train, 8, train=True, seed=4)]
    ev = make_loader(b.val, 5, train=False, workers=0)
    assert [y for _, ys in ev for y in ys.tolist()] == b.val.targets
    w = make_loader(b.val, 5, train=False, workers=2)
    assert w.persistent_workers and w.num_workers == 2
    assert len(make_loader(b.train, 64, train=True)) == 1  # a set smaller than a batch still yields one


def test_resolve_data_root_rule(syn, tmp_path, monkeypatch):
    holder = tmp_path / "holder"
    (holder / "cifar10" / "train").mkdir(parents=True)
    assert resolve_data_root(syn) == syn
    assert resolve_data_root(holder, "cifar10") == holder / "cifar10"
    monkeypatch.setenv("ALEXNET_DATA", str(holder))
    assert resolve_data_root(dataset="cifar10") == holder / "cifar10"
    with pytest.raises(AlexNetError, match="imagenet/train/<wnid>"):
        resolve_data_root(dataset="imagenet")
    with pytest.raises(AlexNetError, match="does not exist"):
        resolve_data_root(tmp_path / "nowhere")
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache" / "imagenet" / "val").mkdir(parents=True)
    assert resolve_data_root(dataset="imagenet") == tmp_path / "cache" / "imagenet"


def _write_cifar_python(folder, n=6):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [i % 10 for i in range(n)]
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": labels}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"]}, fh)


def test_cifar10_python_batches(tmp_path, monkeypatch):
    root = tmp_path / "cifar10"
    _write_cifar_python(root / "cifar-10-batches-py")
    b = build_datasets(root, resize=32, crop=28)
    assert len(b.train) == 30 and len(b.val) == 6 and b.classes[3] == "cat" and "CIFAR-10" in b.description
    assert b.train[0][0].shape == (3, 28, 28) and b.val[4][1] == 4
    monkeypatch.setenv("ALEXNET_DATA", str(tmp_path))
    assert resolve_data_root(dataset="cifar10") == root
    assert len(build_eval_dataset(root, "test", resize=32, crop=28)) == 6


@pytest.mark.parametrize("fname, text", [
    ("LOC_synset_mapping.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n"),
    ("synset_words.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n"),
    ("synsets.tsv", "n01440764\ttench\nn01443537\tgoldfish\n"),
])
def test_human_readable_class_names(tmp_path, fname, text):
    from alexnet.data.folders import class_names
    (tmp_path / fname).write_text(text)
    assert class_names(tmp_path, ["n01440764", "n01443537", "n99999999"]) == ["tench", "goldfish", "n99999999"]


def test_devkit_meta_mat_maps_ilsvrc_ids(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    from alexnet.data.imagenet_val import read_ground_truth
    synsets = np.zeros(3, dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O")])
    for i, (ident, wnid) in enumerate([(2, "n01443537"), (1, "n01440764"), (1001, "n00001740")]):
        synsets[i] = (ident, wnid, "x")
    scipy_io.savemat(tmp_path / "meta.mat", {"synsets": synsets})
    (tmp_path / "gt.txt").write_text("2\n1\n")
    files = ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"]
    assert read_ground_truth(tmp_path / "gt.txt", files, tmp_path / "meta.mat") == {
        files[0]: "n01443537", files[1]: "n01440764"}


def test_chapter_helpers(syn, tmp_path):
    from alexnet.book.data import (AUGMENTATION_PROFILES, DATA_PROFILES, available_datasets, eigvec_angles,
                                       evenly_spaced, pca_comparison)
    from alexnet.profiles import resolve
    assert resolve(DATA_PROFILES, "ci")["resize"] == 256 and resolve(AUGMENTATION_PROFILES, "full")["crop"] == 224
    assert max(eigvec_angles(-IMAGENET_PCA.eigvecs, IMAGENET_PCA.eigvecs)) < 1e-3
    table = pca_comparison({"mine": IMAGENET_PCA}, IMAGENET_PCA)
    assert len(table) == 6 and table["angle to fb (deg)"].max() < 1e-3
    holder = tmp_path / "holder"
    (holder / "imagenet-sample" / "val" / "n1").mkdir(parents=True)
    rows = {r["data set"]: r for r in available_datasets(holder)}
    assert rows["imagenet-sample"]["splits"] == "val" and rows["imagenet"]["folder"] == "not found"
    raw = evenly_spaced(syn, "train", 5, 40)
    assert len(raw) == 5 and raw.targets[0] == 0 and raw.targets[-1] == 3 and raw[0].shape == (3, 40, 40)


def test_pil_decodes_when_torchvision_cannot(tmp_path, monkeypatch):
    import builtins

    from PIL import Image

    from alexnet.data.images import load_image
    Image.fromarray(np.full((9, 7, 3), 200, np.uint8)).save(tmp_path / "a.bmp")
    assert load_image(tmp_path / "a.bmp").shape == (3, 9, 7)  # BMP: PIL
    real_import = builtins.__import__

    def no_torchvision_io(name, *args, **kwargs):
        if name == "torchvision.io":
            raise ImportError("no image decoders")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torchvision_io)
    Image.fromarray(np.full((5, 6, 3), 10, np.uint8)).convert("L").save(tmp_path / "g.JPEG")
    img = load_image(tmp_path / "g.JPEG")
    assert img.shape == (3, 5, 6) and img.dtype == torch.uint8


def test_cifar10_offline_message_names_the_layout(tmp_path, monkeypatch):
    import alexnet.data.root as root_mod

    def offline(target, timeout=10.0):
        raise AlexNetError(f"cannot download CIFAR-10 into {target} (offline)")

    monkeypatch.setattr(root_mod, "download_cifar10", offline)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "empty"))
    with pytest.raises(AlexNetError, match=r"cannot download CIFAR-10 .*cifar10/train/<class>/\*.jpg"):
        resolve_data_root(dataset="cifar10")
