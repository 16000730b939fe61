"""torchvision's layout loads a torchvision state dict and computes the same function."""
import pytest
import torch
import torchvision

from alexnet import AlexNet, count_parameters, load_torchvision_state_dict, torchvision_layout


def test_torchvision_state_dict_gives_identical_outputs():
    torch.manual_seed(0)
    tv = torchvision.models.alexnet(weights=None, num_classes=1000).eval()
    ours = load_torchvision_state_dict(torchvision_layout(), tv.state_dict()).eval()
    assert count_parameters(ours) == count_parameters(tv) == 61_100_840
    x = torch.randn(4, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), tv(x), rtol=0, atol=0)


def test_wrong_architecture_is_named():
    tv = torchvision.models.alexnet(weights=None).state_dict()
    with pytest.raises(ValueError, match="towers.0.conv1.weight"):
        load_torchvision_state_dict(AlexNet(towers=1), tv)
    with pytest.raises(KeyError, match="unexpected key"):
        load_torchvision_state_dict(torchvision_layout(), {"features.99.weight": torch.zeros(1)})
    partial = {k: v for k, v in tv.items() if not k.startswith("classifier.6")}
    with pytest.raises(KeyError, match="fc8"):
        load_torchvision_state_dict(torchvision_layout(), partial)
