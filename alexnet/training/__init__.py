"""Training AlexNet as Section 5 says: the streaming, resumable loop and everything it needs.

* :mod:`.config`: :class:`TrainConfig` (every setting, the paper's values as defaults), presets, profiles;
* :mod:`.loop`: :func:`train`, the loop itself (run folders, exact resume, several GPUs);
* :mod:`.history`: :class:`EpochRecord`, the one history schema of both training loops;
* :mod:`.checkpoint`: atomic checkpoints and :func:`load_model`;
* :mod:`.schedule`: the learning rate divided by 10 on a plateau (torch's schedulers underneath);
* :mod:`.distributed`: DistributedDataParallel set-up for several processes.

The data order and per-item seeds, resumable mid-epoch, are :mod:`alexnet.data.sampler`; the in-memory
loop of the CIFAR-10 ablations is :func:`alexnet.experiments.in_memory.fit_in_memory`.
"""
from .checkpoint import load_model
from .config import TRAINING_PROFILES, TrainConfig, load_preset, preset_names
from .history import EpochRecord, read_metrics
from .loop import TIMING_KEYS, NonFiniteLossError, train

__all__ = ["TrainConfig", "train", "read_metrics", "load_model", "load_preset", "preset_names", "TIMING_KEYS",
           "NonFiniteLossError", "TRAINING_PROFILES", "EpochRecord"]
