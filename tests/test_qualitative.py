"""Section 6.1: the colour-specificity statistic, top-5 predictions and nearest neighbours."""
import math

import pytest
import torch

from alexnet import AlexNet
from alexnet.errors import AlexNetError
from alexnet.profiles import resolve
from alexnet.book.qualitative import CHECKS, PROFILES
from alexnet.qualitative import (
    Neighbours, colour_specificity, conv1_kernels, hidden_features,
    nearest, neighbours, pick_queries, random_kernel_baseline, top_k, tower_colour_stats, tower_gap_pvalue,
)

G = torch.Generator().manual_seed(0)


def grey(n=4, size=11):
    """Kernels with R = G = B at every position (luminance only)."""
    return torch.randn(n, 1, size, size, generator=G).expand(n, 3, size, size).clone()


def opponent(n=4, size=11):
    """Kernels whose channels sum to zero at every position (R = -G, B = 0)."""
    p = torch.randn(n, 1, size, size, generator=G)
    return torch.cat([p, -p, torch.zeros_like(p)], dim=1)


def test_grey_kernels_score_zero_even_with_an_offset():
    k = grey() + 3.0
    assert torch.allclose(colour_specificity(k), torch.zeros(4, dtype=torch.float64), atol=1e-12)


def test_opponent_kernels_and_uniform_tints_score_one():
    assert torch.allclose(colour_specificity(opponent()), torch.ones(4, dtype=torch.float64))
    tint = torch.zeros(1, 3, 11, 11)
    tint[:, 0] = 1.0  # a uniformly red kernel: prefers red patches, a colour-specific kernel
    assert colour_specificity(tint).item() == pytest.approx(1.0)


def test_equal_grey_and_colour_energy_scores_one_half():
    g, c = grey(1), opponent(1)
    g = g - g.mean()
    c = c - (c * g).sum() / (g * g).sum() * g  # make the two parts orthogonal
    k = g / g.norm() + c / c.norm()
    assert colour_specificity(k).item() == pytest.approx(0.5, abs=1e-6)


def test_single_kernel_scale_invariance_and_bad_shapes():
    k = torch.randn(3, 11, 11, generator=G)
    assert colour_specificity(k).dim() == 0
    assert colour_specificity(k * 1e-3).item() == pytest.approx(colour_specificity(k).item())
    with pytest.raises(ValueError, match="RGB kernels"):
        colour_specificity(torch.randn(2, 4, 5, 5))


def test_random_kernels_match_the_baseline():
    v = colour_specificity(torch.randn(2000, 3, 11, 11, generator=G))
    assert random_kernel_baseline() == pytest.approx(242 / 362)
    assert v.mean().item() == pytest.approx(random_kernel_baseline(), abs=0.005)


def test_constant_kernel_is_nan_and_ignored_per_tower():
    k = torch.cat([torch.ones(1, 3, 11, 11), opponent(3)])
    v = colour_specificity(k)
    assert math.isnan(v[0]) and not torch.isnan(v[1:]).any()
    (stat,) = tower_colour_stats([k])
    assert stat.mean == pytest.approx(1.0) and stat.kernels == 4
    with pytest.raises(AlexNetError, match="constant"):
        tower_colour_stats([torch.ones(2, 3, 11, 11)])


def test_tower_stats_of_a_model_with_a_grey_and_a_colour_tower():
    m = AlexNet(10, widths=(8, 8, 8, 8, 8), fc=(8, 8), adaptive_pool=True)
    with torch.no_grad():
        m.towers[0].conv1.weight.copy_(grey(4))
        m.towers[1].conv1.weight.copy_(opponent(4))
    assert [k.shape for k in conv1_kernels(m)] == [(4, 3, 11, 11)] * 2
    s1, s2 = tower_colour_stats(m)
    assert (s1.tower, s2.tower) == (1, 2)
    assert s1.mean == pytest.approx(0.0, abs=1e-9) and s2.mean == pytest.approx(1.0)
    assert s1.as_dict()["kernels"] == 4


def test_gap_pvalue_separates_real_and_random_splits():
    a = colour_specificity(grey(24)) + 0.05 * torch.rand(24, generator=G, dtype=torch.float64)
    b = colour_specificity(opponent(24)) - 0.05 * torch.rand(24, generator=G, dtype=torch.float64)
    assert tower_gap_pvalue(a, b, permutations=2000) < 0.01
    same = colour_specificity(torch.randn(48, 3, 11, 11, generator=G))
    assert tower_gap_pvalue(same[:24], same[24:], permutations=2000) > 0.05


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return AlexNet(4, widths=(6, 8, 8, 8, 8), fc=(16, 16), adaptive_pool=True, init="torch")


def test_top_k_is_sorted_softmax_and_restores_training_mode(tiny):
    x = torch.randn(5, 3, 67, 67, generator=G)
    tiny.train()
    p = top_k(tiny, x, k=3)
    assert tiny.training
    assert p.probs.shape == p.indices.shape == (5, 3)
    assert (p.probs[:, :-1] >= p.probs[:, 1:]).all() and (p.probs.sum(1) <= 1 + 1e-6).all()
    tiny.eval()
    with torch.no_grad():
        full = torch.softmax(tiny(x), 1)
    assert torch.equal(p.indices[:, 0], full.argmax(1))
    assert torch.allclose(p.probs[:, 0], full.max(1).values)
    top1, top3 = p.correct(p.indices[:, 2])
    assert not top1.any() and top3.all()
    assert p.labels(["a", "b", "c", "d"])[0][0] == "abcd"[int(p.indices[0, 0])]
    assert top_k(tiny, x, k=10).probs.shape == (5, 4)  # k capped at the number of classes


def test_hidden_features_are_fc7_outputs(tiny):
    x = torch.randn(3, 3, 67, 67, generator=G)
    h = hidden_features(tiny, x, batch_size=2)
    assert h.shape == (3, 16)
    tiny.eval()
    with torch.no_grad():
        _, ref = tiny.classifier(tiny.features(x), return_hidden=True)
    assert torch.allclose(h, ref, atol=1e-6)
    from alexnet.qualitative import outputs, predictions

    logits, h2 = outputs(tiny, x)
    assert torch.allclose(logits, tiny(x), atol=1e-6) and torch.allclose(h2, ref, atol=1e-6)
    assert torch.equal(predictions(logits, 2).indices, logits.topk(2, dim=1).indices)


def test_nearest_finds_itself_first_and_sorts():
    gallery = torch.randn(20, 7, generator=G)
    dist, idx = nearest(gallery[[3, 11]], gallery, k=4)
    assert idx[:, 0].tolist() == [3, 11]
    assert torch.allclose(dist[:, 0], torch.zeros(2), atol=1e-3)
    assert (dist[:, 1:] >= dist[:, :-1]).all()
    with pytest.raises(ValueError, match="k must be"):
        nearest(gallery[:1], gallery, k=21)
    with pytest.raises(ValueError, match="dimensions"):
        nearest(torch.randn(1, 6), gallery)


def test_neighbours_in_both_spaces(tiny):
    gallery = torch.randn(12, 3, 67, 67, generator=G)
    nb = neighbours(tiny, gallery[[0, 5]], gallery, k=3)
    assert nb.pixel_idx[:, 0].tolist() == [0, 5]
    assert nb.feature_idx.shape == (2, 3)
    assert (nb.feature_dist[:, 0] < 1e-3).all()  # the query itself (or an image with the same features)
    feats = hidden_features(tiny, gallery)
    assert torch.allclose(nb.feature_dist, nearest(feats[[0, 5]], feats, k=3)[0], atol=1e-4)


def test_neighbour_statistics():
    nb = Neighbours(torch.tensor([[0, 1], [2, 3]]), torch.zeros(2, 2), torch.tensor([[0, 2], [1, 3]]), torch.zeros(2, 2))
    labels = torch.tensor([0, 0, 1, 1])
    assert nb.same_class(torch.tensor([0, 1]), labels) == (1.0, 0.5)
    assert nb.overlap() == 0.5


def test_query_and_class_selection():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    q = pick_queries(labels, 3, seed=1)
    assert sorted(labels[q].tolist()) == [0, 1, 2]
    assert len(set(pick_queries(labels, 9).tolist())) == 9


def test_profiles_resolve_and_name_bad_values():
    s = resolve(PROFILES, "ci", CHECKS)
    assert s["neighbours"] == 6 and s["checkpoint"] is None and s["widths"][0] == 96
    assert resolve(PROFILES, "full", CHECKS)["fc"] == 4096
    with pytest.raises(AlexNetError, match="widths"):
        resolve(PROFILES, "ci", CHECKS, widths=[96, 64])
    with pytest.raises(AlexNetError, match="neighbours"):
        resolve(PROFILES, "ci", CHECKS, neighbours=0)
    with pytest.raises(AlexNetError, match="unknown parameter 'neighbor'"):
        resolve(PROFILES, "ci", CHECKS, neighbor=3)
    with pytest.raises(AlexNetError, match="unknown parameter 'train_seconds'"):  # steps, never a time cap
        resolve(PROFILES, "ci", CHECKS, train_seconds=50.0)
    with pytest.raises(AlexNetError, match="steps_per_epoch"):
        resolve(PROFILES, "ci", CHECKS, steps_per_epoch=0)
    with pytest.raises(AlexNetError, match="init"):
        resolve(PROFILES, "ci", CHECKS, init="he")
    assert resolve(PROFILES, "ci", CHECKS)["results"] == "results/imagenette"
    assert resolve(PROFILES, "full", CHECKS, checkpoint="run/best.pt")["checkpoint"] == "run/best.pt"


def test_colour_verdict_follows_the_test():
    from alexnet.qualitative import TowerColour, colour_verdict

    a = TowerColour(1, 48, 0.2, 0.1, 0.2, torch.zeros(48))
    b = TowerColour(2, 48, 0.6, 0.1, 0.6, torch.zeros(48))
    assert "the pattern the paper reports" in colour_verdict([b, a], 0.001)
    assert colour_verdict([b, a], 0.001).startswith("tower 1's kernels are less")
    assert "does not appear" in colour_verdict([a, b], 0.3) and "p = 0.300" in colour_verdict([a, b], 0.3)
    assert "does not appear" in colour_verdict([a, b], 0.018)  # below 5% but not below the 1% level
    assert "1 tower" in colour_verdict([a], 0.3)


def test_neighbour_verdict_reads_the_numbers():
    from alexnet.qualitative import neighbour_verdict

    assert "as the paper's Figure 4 suggests" in neighbour_verdict(0.5, 0.2, 0.1)
    assert "opposite" in neighbour_verdict(0.1, 0.3, 0.1)
    assert "does not show" in neighbour_verdict(0.21, 0.2, 0.1)
