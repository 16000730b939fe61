"""Section 3 of the paper: shapes, counts, towers, variants, initialisation, placement."""
import pytest
import torch

from alexnet import AlexNet, count_parameters, summary
from alexnet.model import conv1_extra_padding


@pytest.fixture(scope="module")
def paper_model():
    torch.manual_seed(0)
    return AlexNet()


def test_parameter_count_is_papers(paper_model):
    assert count_parameters(paper_model) == 60_965_224


def test_ungrouped_count():
    assert count_parameters(AlexNet(towers=1, widths=(96, 256, 384, 384, 256))) == 62_378_344


def test_one_tower_footnote2_has_about_the_same_parameters():
    n = count_parameters(AlexNet(towers=1))
    assert abs(n - 60_965_224) / 60_965_224 < 0.03
    m = AlexNet(towers=1)
    t = m.towers[0]
    assert [t.conv1.out_channels, t.conv2.out_channels, t.conv3.out_channels, t.conv4.out_channels,
            t.conv5.out_channels] == [48, 128, 192, 192, 256]
    assert (t.fc6.out_features, t.fc7.out_features, t.fc8.out_features) == (4096, 4096, 1000)


def test_layer_table_shapes_and_neurons(paper_model):
    table = summary(paper_model, 224).set_index("layer")
    assert table.loc["conv1", "output"] == "96 x 55 x 55"
    assert table.loc["conv2", "output"] == "256 x 27 x 27"
    assert table.loc["conv3", "output"] == "384 x 13 x 13"
    assert table.loc["conv5", "output"] == "256 x 13 x 13"
    assert table.loc["fc6", "output"] == "4096"
    assert table.loc["fc8", "output"] == "1000"
    assert table.loc["total", "neurons"] == 659_272
    assert table.loc["total", "parameters"] == 60_965_224
    assert table.loc["conv1", "neurons"] == 290_400
    assert table.loc["conv2", "input from"] == "own tower"
    assert table.loc["conv3", "input from"] == "both towers"
    # multiply-adds of conv1: 55*55*96 outputs, 11*11*3 each
    assert table.loc["conv1", "mult-adds"] == 55 * 55 * 96 * 363


def test_conv1_rounding_224_and_227():
    assert conv1_extra_padding(224) == 3
    assert conv1_extra_padding(227) == 0
    m = AlexNet(num_classes=10).eval()
    for size in (224, 227):
        with torch.no_grad():
            out = m.towers[0].conv1(m._conv1_input(torch.zeros(1, 3, size, size)))
        assert out.shape[-2:] == (55, 55)
    # 224 is exactly 227 with three zero rows and columns at the right and bottom
    x = torch.randn(2, 3, 224, 224)
    padded = torch.nn.functional.pad(x, (0, 3, 0, 3))
    with torch.no_grad():
        torch.testing.assert_close(m(x), m(padded))


def test_towers_connect_only_where_the_paper_says():
    """conv2, conv4, conv5 see only their own tower; conv3, fc layers see both."""
    m = AlexNet()
    t0, t1 = m.towers
    assert t0.conv2.in_channels == 48 and t0.conv4.in_channels == 192 and t0.conv5.in_channels == 192
    assert t0.conv3.in_channels == 256 and t0.fc6.in_features == 9216
    assert t0.fc7.in_features == 4096 and t0.fc8.in_features == 4096
    # perturbing tower 1's conv1 weights cannot change tower 0's conv2 output
    torch.manual_seed(0)
    m = AlexNet(num_classes=10).eval()
    x = torch.randn(1, 3, 227, 227)
    acts = {}
    m.towers[0].conv2.register_forward_hook(lambda mod, i, o: acts.__setitem__("c2", o.clone()))
    m.towers[0].conv3.register_forward_hook(lambda mod, i, o: acts.__setitem__("c3", o.clone()))
    with torch.no_grad():
        m(x)
        before = dict(acts)
        m.towers[1].conv1.weight.add_(torch.randn_like(m.towers[1].conv1.weight))
        m(x)
    torch.testing.assert_close(acts["c2"], before["c2"])
    assert not torch.allclose(acts["c3"], before["c3"])


def test_paper_initialisation():
    torch.manual_seed(0)
    m = AlexNet()
    for tower in m.towers:
        for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"):
            layer = getattr(tower, name)
            expected_bias = 1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0
            assert torch.all(layer.bias == expected_bias), name
            w = layer.weight
            assert abs(w.mean().item()) < 0.01 * 5 / w.numel() ** 0.5 + 1e-6, name
            if w.numel() > 10_000:
                assert abs(w.std().item() - 0.01) < 0.0005, name


def test_forward_output_and_hidden_shape(paper_model):
    paper_model.eval()
    with torch.no_grad():
        logits, hidden = paper_model.classifier(paper_model.features(torch.randn(2, 3, 224, 224)),
                                                return_hidden=True)
    assert logits.shape == (2, 1000) and hidden.shape == (2, 4096)


@pytest.mark.parametrize("kwargs", [
    dict(towers=1), dict(lrn=False), dict(pool="non-overlapping"), dict(activation="tanh"),
    dict(dropout=0.0), dict(dropout_mode="inverted"), dict(conv4=False),
])
def test_variants_run_and_keep_output_sizes(kwargs):
    m = AlexNet(num_classes=7, **kwargs)
    table = summary(m, 227).set_index("layer")
    assert table.loc["conv1", "output"].endswith("55 x 55")
    assert table.loc["conv5", "output"].endswith("13 x 13")
    out = m.train()(torch.randn(2, 3, 227, 227))
    assert out.shape == (2, 7)
    out.sum().backward()


def test_without_conv4_conv5_reads_conv3_and_the_rest_keeps_its_shape():
    """Section 7's depth ablation: conv4 removed from both towers, nothing else changed."""
    base, short = AlexNet(), AlexNet(conv4=False)
    assert all(t.conv4 is None and t.conv5.in_channels == t.conv3.out_channels for t in short.towers)
    conv4 = sum(p.numel() for t in base.towers for p in t.conv4.parameters())
    assert count_parameters(short) == 60_965_224 - conv4 == 60_301_288
    assert list(summary(short, 224)["layer"]) == ["conv1", "conv2", "conv3", "conv5", "fc6", "fc7", "fc8", "total"]
    assert short.config["conv4"] is False and "conv4" not in base.config  # older configs still match
    keep = {k: v for k, v in base.state_dict().items() if ".conv4." not in k}
    short.load_state_dict(keep)  # every other layer's parameters fit as they are
    assert AlexNet(**short.config).towers[0].conv4 is None


def test_variant_switches_change_the_network():
    x = torch.randn(1, 3, 227, 227) * 50
    torch.manual_seed(0)
    base = AlexNet(num_classes=5).eval()
    for kwargs in (dict(lrn=False), dict(pool="non-overlapping"), dict(activation="tanh"), dict(conv4=False)):
        other = AlexNet(num_classes=5, **kwargs).eval()
        other.load_state_dict(base.state_dict(), strict="conv4" not in kwargs)
        with torch.no_grad():
            assert not torch.allclose(base(x), other(x)), kwargs


@pytest.mark.parametrize("kwargs, match", [
    (dict(towers=3), "towers"), (dict(pool="avg"), "pool"), (dict(activation="gelu"), "activation"),
    (dict(widths=(1, 2)), "widths"), (dict(num_classes=0), "num_classes"), (dict(init="xavier"), "init"),
    (dict(conv1_padding="same"), "conv1_padding"), (dict(dropout_on="both"), "dropout_on"),
])
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AlexNet(**kwargs)


def test_bad_input_shape_is_named():
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        AlexNet(num_classes=3)(torch.zeros(1, 1, 227, 227))


def _grads(model):
    return {k: p.grad.detach().cpu().clone() for k, p in model.named_parameters()}


def _check_placement(devices):
    torch.manual_seed(0)
    ref = AlexNet(num_classes=10, dropout=0.0)
    placed = AlexNet(num_classes=10, dropout=0.0)
    placed.load_state_dict(ref.state_dict())
    placed.place(devices)
    for tower, dev in zip(placed.towers, devices):
        assert all(p.device == torch.device(dev) for p in tower.parameters())
    x = torch.randn(2, 3, 224, 224) * 50
    y_ref = ref(x)
    y = placed(x.to(devices[0]))
    assert y.device == torch.device(devices[0])
    torch.testing.assert_close(y.cpu(), y_ref, rtol=1e-4, atol=1e-5)
    y_ref.square().sum().backward()
    y.square().sum().backward()
    g_ref, g = _grads(ref), _grads(placed)
    for k in g_ref:
        torch.testing.assert_close(g[k], g_ref[k], rtol=1e-3, atol=1e-6, msg=k)


def test_two_device_placement_cpu_cpu_equals_single_device():
    _check_placement(("cpu", "cpu"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_two_device_placement_cpu_cuda_equals_single_device():
    _check_placement(("cpu", "cuda:0"))


def test_place_needs_one_device_per_tower():
    with pytest.raises(ValueError, match="one per tower"):
        AlexNet().place(["cpu"])
