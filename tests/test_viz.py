"""The book's figures (alexnet.viz): Figure 3's kernel grid, Figure 4's panels, training curves."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from alexnet import viz  # noqa: E402

G = torch.Generator().manual_seed(0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_to_display_normalises_each_image():
    x = torch.randn(3, 5, 6, generator=G) * 100 - 40
    d = viz.to_display(x)
    assert d.shape == (5, 6, 3) and d.min() == 0.0 and d.max() == 1.0
    assert np.allclose(viz.to_display(torch.full((3, 2, 2), 7.0)), 0.5)
    # adding back the mean image changes what is shown
    mean = torch.zeros(3, 5, 6)
    mean[0] = 50
    assert viz.to_display(x, mean)[..., 0].mean() > d[..., 0].mean()
    with pytest.raises(ValueError, match="to_display"):
        viz.to_display(torch.zeros(5, 6))


def test_to_display_shows_a_decoded_photograph_as_it_is():
    photo = torch.tensor([[[10, 20]], [[30, 40]], [[50, 255]]], dtype=torch.uint8)  # (3, 1, 2)
    d = viz.to_display(photo)
    assert d.shape == (1, 2, 3)
    assert np.allclose(d[0, 0], [10 / 255, 30 / 255, 50 / 255]) and np.allclose(d[0, 1], [20 / 255, 40 / 255, 1.0])


def test_kernel_mosaic_tiles_and_normalises_per_kernel():
    k = torch.randn(10, 3, 11, 11, generator=G)
    k[3] *= 1000  # a large kernel must not wash out the others
    m = viz.kernel_mosaic(k, cols=4, gap=1)
    assert m.shape == (3 * 12 - 1, 4 * 12 - 1, 3)
    tile = m[:11, 12:23]  # the second kernel
    assert tile.min() == 0.0 and tile.max() == 1.0
    assert (m[11, :, :] == 1).all()  # white gap between rows
    with pytest.raises(ValueError, match="kernel_mosaic"):
        viz.kernel_mosaic(torch.randn(4, 1, 11, 11))


def test_filter_grid_has_one_titled_panel_per_tower():
    towers = [torch.randn(48, 3, 11, 11, generator=G), torch.randn(48, 3, 11, 11, generator=G)]
    fig = viz.filter_grid(towers, stats=[0.12, 0.71])
    assert len(fig.axes) == 2
    titles = [ax.get_title() for ax in fig.axes]
    assert "0.12" in titles[0] and "0.71" in titles[1] and "48 kernels" in titles[0]
    assert fig.axes[0].images[0].get_array().shape == (6 * 12 - 1, 8 * 12 - 1, 3)


def test_prediction_panels_mark_the_true_class_in_red():
    images = torch.randn(3, 3, 20, 20, generator=G)
    probs = torch.tensor([[0.6, 0.2, 0.1, 0.05, 0.05]] * 3)
    idx = torch.tensor([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [5, 6, 7, 8, 9]])
    names = [f"class{i}" for i in range(10)]
    fig = viz.prediction_panels(images, probs, idx, names, targets=[0, 2, 1], cols=2)
    assert len(fig.axes) == 6
    img_ax, bar_ax = fig.axes[0], fig.axes[1]
    assert img_ax.get_title() == "class0"
    assert [t.get_text() for t in bar_ax.texts] == names[:5]  # each label on its bar, inside the panel
    assert all(0 <= t.get_position()[0] < 0.5 for t in bar_ax.texts) and not bar_ax.get_yticklabels()
    red = [to_hex(p.get_facecolor()[:3]) for p in bar_ax.patches].count(viz.CORRECT_COLOUR)
    assert red == 1
    third = fig.axes[5]  # true class 1 is not among the five: no red bar
    assert viz.CORRECT_COLOUR not in [to_hex(p.get_facecolor()[:3]) for p in third.patches]
    with pytest.raises(ValueError, match="prediction_panels"):
        viz.prediction_panels(images, probs[:2], idx[:2], names)


def test_neighbour_panels_layout_and_captions():
    queries = torch.randn(2, 3, 16, 16, generator=G)
    gallery = torch.randn(10, 3, 16, 16, generator=G)
    fi = torch.tensor([[0, 1, 2], [3, 4, 5]])
    pi = torch.tensor([[6, 7, 8], [9, 0, 1]])
    labels = torch.tensor([0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    fig = viz.neighbour_panels(queries, gallery, fi, pi, ["cat", "dog"], [0, 1], labels)
    assert len(fig.axes) == 2 * (1 + 2 * 3)  # per query: itself, 3 in fc7, 3 in pixels
    query, f1, f2, f3, p1 = fig.axes[:5]
    assert query.get_title() == "query" and query.get_xlabel() == "cat"
    assert "fc7" in f1.get_ylabel() and "pixel" in p1.get_ylabel()
    assert to_hex(f3.xaxis.label.get_color()) == viz.CORRECT_COLOUR  # gallery[2] is a dog
    assert to_hex(f1.xaxis.label.get_color()) == "#000000"
    with pytest.raises(ValueError, match="neighbour_panels"):
        viz.neighbour_panels(queries, gallery, fi, pi[:1])


def test_training_curves_plots_requested_metrics():
    hist = [dict(epoch=e, train_loss=2.0 / e, val_error=0.9 - 0.1 * e, lr=0.01) for e in range(1, 5)]
    ax = viz.training_curves(hist, ["train_loss", "val_error"], title="curves")
    assert [line.get_label() for line in ax.get_lines()] == ["train_loss", "val_error"]
    assert ax.get_title() == "curves" and ax.get_xlabel() == "epoch"
    assert len(viz.training_curves(hist).get_lines()) == 3  # every numeric column
    with pytest.raises(ValueError, match="not in the history"):
        viz.training_curves(hist, ["val_loss"])
    with pytest.raises(ValueError, match="empty"):
        viz.training_curves([])


def test_to_display_takes_the_central_patch_of_a_larger_mean_image():
    mean = torch.zeros(3, 8, 8)
    mean[:, 2:6, 2:6] = torch.arange(16.0).view(4, 4)  # only the centre matters for a 4x4 image
    x = torch.zeros(3, 4, 4)
    assert np.allclose(viz.to_display(x, mean)[..., 0], np.arange(16.0).reshape(4, 4) / 15)
    with pytest.raises(ValueError, match="smaller"):
        viz.to_display(torch.zeros(3, 9, 9), mean)


def test_short_name_keeps_wordnets_first_synonym():
    assert viz.short_name("tench, Tinca tinca") == "tench"
    assert viz.short_name("airplane") == "airplane"
    assert viz.short_name("a" * 30, width=10) == "a" * 9 + "…"
