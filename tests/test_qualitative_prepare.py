"""Section 6.1 end to end on generated data: the ci rerun trains a two-tower net by steps, full loads a checkpoint."""
import pytest
import torch

from alexnet import AlexNet
from alexnet.errors import AlexNetError
from alexnet.profiles import resolve
from alexnet.book.qualitative import CHECKS, PROFILES, prepare
from alexnet.qualitative import neighbours, top_k, tower_colour_stats

SMALL = dict(widths=[8, 8, 8, 8, 8], fc=16, train_per_class=6, gallery_per_class=4, val_per_class=3, epochs=2,
             steps_per_epoch=3, batch_size=4, resize=72, crop=67)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from alexnet.data import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("syn") / "set", num_classes=3, train_per_class=6, val_per_class=3,
                          size=40, seed=2)


@pytest.mark.slow
def test_ci_run_trains_a_two_tower_model_by_steps_and_twice_the_same(data, tmp_path):
    settings = resolve(PROFILES, "ci", CHECKS, data=str(data), **SMALL)
    run = prepare(settings, out=tmp_path / "first")
    assert run.synthetic and "SYNTHETIC" in run.data_description
    assert len(run.class_names) == 3 and run.val_images.shape == (9, 3, 67, 67)
    assert run.gallery_images.shape[0] == 12 and sorted(run.gallery_labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    assert len(run.model.towers) == 2 and run.model.towers[0].conv1.out_channels == 4
    # exactly epochs x steps_per_epoch steps of the real training loop, whatever the machine's speed
    assert [r["step"] for r in run.history] == [3, 6] and run.run_folder == tmp_path / "first"
    assert (tmp_path / "first" / "last.pt").exists() and "6 steps of 4 images" in run.model_description
    assert not run.model.training
    assert len(tower_colour_stats(run.model)) == 2
    nb = neighbours(run.model, run.val_images, run.gallery_images, k=6)
    assert nb.feature_idx.shape == (9, 6) and int(nb.pixel_idx.max()) < 12
    assert run.mean is not None and run.mean.shape[0] == 3
    again = prepare(settings, out=tmp_path / "second")  # a second build gives the same network and numbers
    for a, b in zip(run.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    from alexnet.training import TIMING_KEYS

    def untimed(history):
        return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in history]

    assert untimed(run.history) == untimed(again.history)
    assert torch.equal(top_k(run.model, run.val_images).probs, top_k(again.model, again.val_images).probs)


@pytest.mark.slow
def test_full_profile_loads_a_checkpoint(data, tmp_path):
    from alexnet.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = AlexNet(3, widths=(8, 8, 8, 8, 8), fc=(16, 16), adaptive_pool=True)
    names = ["class a", "class b", "class c"]
    state = {"model": model.state_dict(), "model_config": model.config, "class_names": names,
             "data_config": {"resize": 72, "crop": 67, "mean_image": True, "max_per_class": None}}
    path = save_checkpoint(state, tmp_path / "best.pt")
    # the profile says 256/224; the checkpoint's own preprocessing (72/67) wins
    run = prepare(resolve(PROFILES, "full", CHECKS, data=str(data), checkpoint=str(path), gallery_per_class=2,
                          val_per_class=2))
    assert run.class_names == names and run.history == [] and run.val_images.shape[-1] == 67
    assert torch.equal(run.model.towers[1].conv1.weight, model.towers[1].conv1.weight)
    assert top_k(run.model, run.val_images, k=5).probs.shape == (6, 3)


def test_the_full_profile_needs_a_checkpoint_that_exists(data, tmp_path):
    with pytest.raises(AlexNetError, match="needs checkpoint"):
        prepare(resolve(PROFILES, "full", CHECKS, data=str(data), resize=72, crop=67, val_per_class=1,
                        gallery_per_class=1))
    with pytest.raises(AlexNetError, match="missing.pt"):
        prepare(resolve(PROFILES, "full", CHECKS, data=str(data), checkpoint=str(tmp_path / "missing.pt"),
                        resize=72, crop=67, val_per_class=1, gallery_per_class=1))


def test_a_missing_data_folder_is_named(tmp_path):
    with pytest.raises(AlexNetError, match="nowhere"):
        prepare(resolve(PROFILES, "ci", CHECKS, data=str(tmp_path / "nowhere"), **SMALL))


def test_the_notebook_refuses_an_unknown_parameter(tmp_path):
    from alexnet.book import ROOT, execute_notebook

    with pytest.raises(AlexNetError, match=r"unknown parameter\(s\) \['neighbors'\]"):
        execute_notebook(ROOT / "notebooks" / "06_1_qualitative.md", tmp_path / "out.ipynb",
                         {"profile": "ci", "neighbors": 3})


@pytest.mark.slow
def test_the_notebook_names_an_impossible_value(tmp_path):
    from alexnet.book import ROOT, execute_notebook

    with pytest.raises(AlexNetError, match=r"06_1_qualitative.md: cell \d+ failed: AlexNetError: .*'neighbours'"):
        execute_notebook(ROOT / "notebooks" / "06_1_qualitative.md", tmp_path / "out.ipynb",
                         {"profile": "ci", "neighbours": 0})
