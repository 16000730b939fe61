"""What the architecture chapter (``notebooks/03_architecture.md``, Sections 3.2 and 3.5) calls:
its profiles and the check that the two towers give the same function on two devices.
"""
from __future__ import annotations

import torch

from ..model import AlexNet

__all__ = ["ARCHITECTURE_PROFILES", "placement_devices", "placement_check"]


#: Profiles of the architecture chapter (notebooks/03_architecture.md).
ARCHITECTURE_PROFILES = {
    "ci": {"input_size": 224, "devices": "cpu,cpu"},
    "full": {"input_size": 224, "devices": "auto"},
}


def placement_devices(spec: str) -> tuple[str, str]:
    """``"auto"`` -> two GPUs if present, else CPU + GPU, else CPU + CPU; or ``"a,b"`` literally."""
    if spec == "auto":
        n = torch.cuda.device_count()
        return ("cuda:0", "cuda:1") if n >= 2 else ("cpu", "cuda:0") if n == 1 else ("cpu", "cpu")
    parts = tuple(p.strip() for p in spec.split(","))
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"devices must be 'auto' or two comma-separated devices like 'cpu,cuda:0', got {spec!r}")
    for p in parts:
        torch.device(p)  # raises on a malformed name
    return parts  # type: ignore[return-value]


@torch.no_grad()
def _clone_to(model: AlexNet, devices) -> AlexNet:
    twin = AlexNet(**model.config)
    twin.load_state_dict(model.state_dict())
    return twin.place(devices)


def placement_check(devices: tuple[str, str], input_size: int = 224, seed: int = 0) -> dict:
    """Section 3.2: run the same weights on one device and on ``devices``; compare outputs and grads.

    Dropout is off so both runs see the same function. Returns the largest absolute differences.
    """
    torch.manual_seed(seed)
    ref = AlexNet(num_classes=1000, dropout=0.0)
    placed = _clone_to(ref, devices)
    x = torch.randn(2, 3, input_size, input_size) * 50
    y_ref, y = ref(x), placed(x.to(devices[0]))
    y_ref.square().mean().backward()
    y.square().mean().backward()
    grad_diff = max(
        (a.grad.cpu() - b.grad.cpu()).abs().max().item()
        for a, b in zip(ref.parameters(), placed.parameters())
    )
    return {
        "devices": list(devices),
        "tower_devices": [str(next(t.parameters()).device) for t in placed.towers],
        "max_output_diff": (y.detach().cpu() - y_ref.detach()).abs().max().item(),
        "max_grad_diff": grad_diff,
    }
