"""What the architecture chapter (``notebooks/03_architecture.md``, Sections 3.2 and 3.5) calls:
its profiles and the check that the two towers give the same function on two devices.
"""
from __future__ import annotations

import torch

from ..errors import AlexNetError
from ..model import AlexNet
from ..provenance import resolve_device

__all__ = ["ARCHITECTURE_PROFILES", "placement_devices", "placement_check"]


#: Profiles of the architecture chapter (notebooks/03_architecture.md).
ARCHITECTURE_PROFILES = {
    "ci": {"input_size": 224, "devices": "cpu,cpu"},
    "full": {"input_size": 224, "devices": "auto"},
}


def placement_devices(spec: str, what: str = "parameter 'devices'") -> tuple[str, str]:
    """``"auto"`` -> two GPUs if present, else CPU + GPU, else CPU + CPU; or ``"a,b"`` literally.

    Section 3.2 puts one tower on each GPU. A device that is no device name, or that this machine
    lacks (CUDA without a GPU, ``cuda:3`` with fewer GPUs), raises :class:`AlexNetError` naming
    ``what``, before any tower is moved.
    """
    if spec == "auto":
        n = torch.cuda.device_count()
        return ("cuda:0", "cuda:1") if n >= 2 else ("cpu", "cuda:0") if n == 1 else ("cpu", "cpu")
    parts = tuple(p.strip() for p in str(spec).split(","))
    if len(parts) != 2 or not all(parts):
        raise AlexNetError(f"{what} must be 'auto' or two comma-separated devices like 'cpu,cuda:0', got {spec!r}")
    for part in parts:
        device = resolve_device(part, what)
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise AlexNetError(f"{what} {part}: this machine has {torch.cuda.device_count()} CUDA device(s)")
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
