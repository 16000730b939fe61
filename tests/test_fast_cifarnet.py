"""CifarNet's faster default (ReLU in place) trains to the same bits as the ReLU that copies, so
the committed CIFAR-10 records stay what this code computes; the LRN options stay close."""
import torch
from torch import nn

from alexnet.data.tensors import TensorData
from alexnet.experiments.in_memory import InMemoryConfig, fit_in_memory
from alexnet.small_nets import CifarNet


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (96, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (96,), generator=g)
    return TensorData(x, y, x[:32], y[:32], [str(i) for i in range(10)], "generated", True, "generated")


def _fit(model):
    cfg = InMemoryConfig(epochs=2, batch_size=32, crop=24, checks_per_epoch=2, train_eval_size=32, weight_decay=5e-4)
    return fit_in_memory(model, _data(), cfg, seed=4), model


def test_relu_in_place_trains_bit_for_bit_like_the_copying_relu():
    torch.manual_seed(0)
    fast = CifarNet(lrn=True, input_size=24, hidden=(16,), dropout=0.5)
    slow = CifarNet(lrn=True, input_size=24, hidden=(16,), dropout=0.5)
    slow.load_state_dict(fast.state_dict())
    assert any(isinstance(m, nn.ReLU) and m.inplace for m in fast.modules())
    for m in slow.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    h_fast, fast = _fit(fast)
    h_slow, slow = _fit(slow)
    assert [r.train_loss for r in h_fast.records] == [r.train_loss for r in h_slow.records]
    assert h_fast.final_test_error == h_slow.final_test_error
    for p1, p2 in zip(fast.parameters(), slow.parameters()):
        assert torch.equal(p1, p2)


def test_cifarnet_lrn_option_hand_backward_is_close_not_default():
    torch.manual_seed(0)
    ref = CifarNet(lrn=True, input_size=24)
    other = CifarNet(lrn=True, input_size=24, lrn_params={"impl": "hand_backward"})
    other.load_state_dict(ref.state_dict())
    assert ref.features[3].impl == "reference"  # the default computes what the committed records did
    x = torch.randn(8, 3, 24, 24).contiguous(memory_format=torch.channels_last) * 3
    torch.testing.assert_close(other(x), ref(x), rtol=1e-5, atol=1e-6)
