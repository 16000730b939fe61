"""``python -m alexnet prepare SRC DST``: write the 256x256 copy the paper trained from (Section 2).

Every image of every split under ``SRC`` (``train``, ``val``, ``test`` in the folder layout) is
rescaled so its shorter side is ``size`` and its central ``size x size`` patch written as a JPEG
to the same place under ``DST``. Parallel over cores (``multiprocessing``), with a progress bar,
and resumable: each file is written to a temporary name and renamed when complete, so a file
that exists under ``DST`` is finished and is skipped when the command runs again. ``DST`` may not
be ``SRC``, inside it, or around it, so the source is never overwritten. A bad image stops the run
with one line naming it, unless ``skip_bad`` (then the report counts and lists them).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import AlexNetError
from ..files import atomic_write
from .folders import SYNSET_FILES, list_classes
from .images import BadImageError, is_image_file, load_image, resize_centre_crop
from .loader import default_workers
from .synthetic import MARKER

__all__ = ["PrepareReport", "prepare"]


@dataclass
class PrepareReport:
    """What :func:`prepare` did."""

    source: str
    target: str
    size: int
    written: int = 0
    already_done: int = 0
    bad: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _target_name(path: Path) -> str:
    return path.name if path.suffix.lower() in (".jpg", ".jpeg") else path.stem + ".JPEG"


def _jobs(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    jobs = []
    splits = [p for p in sorted(src.iterdir()) if p.is_dir() and p.name in ("train", "val", "test")]
    if not splits:
        raise AlexNetError(f"missing split: {src} holds no train/, val/ or test/ folder")
    for split in splits:
        for name in list_classes(split):
            files = sorted(p for p in (split / name).iterdir() if p.is_file() and is_image_file(p))
            if not files:
                raise AlexNetError(f"empty class folder {split / name}: it holds no image files")
            jobs.extend((p, dst / split.name / name / _target_name(p)) for p in files)
    return jobs


def _work(job: tuple[Path, Path, int, int]) -> tuple[str, str | None]:
    """Process one file; returns ``(status, error)`` with status ``written``, ``done`` or ``bad``."""
    import warnings

    from torchvision.io import encode_jpeg

    source, target, size, quality = job
    if target.exists():
        return "done", None
    try:
        img = resize_centre_crop(load_image(source), size)
    except BadImageError as err:
        return "bad", str(err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = encode_jpeg(img, quality=quality).numpy().tobytes()
    atomic_write(target, data)
    return "written", None


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def prepare(
    src: str | Path,
    dst: str | Path,
    *,
    size: int = 256,
    workers: int | None = None,
    skip_bad: bool = False,
    quality: int = 95,
    progress: bool = True,
) -> PrepareReport:
    """Write the ``size x size`` copy of the data set at ``src`` into ``dst`` (see the module doc)."""
    src, dst = Path(src).expanduser().resolve(), Path(dst).expanduser().resolve()
    if not src.is_dir():
        raise AlexNetError(f"source folder {src} does not exist")
    if dst == src or dst.is_relative_to(src) or src.is_relative_to(dst):
        raise AlexNetError(f"refusing to write {dst}: the output may not be the input {src}, inside it or around it")
    if size < 1 or not 1 <= quality <= 100:
        raise AlexNetError(f"need size >= 1 and 1 <= quality <= 100, got size={size}, quality={quality}")
    record = dst / "PREPARED.json"
    if record.is_file():
        try:
            earlier = json.loads(record.read_text())
        except json.JSONDecodeError:
            earlier = {}
        if earlier.get("size", size) != size or earlier.get("source", str(src)) != str(src):
            raise AlexNetError(f"{dst} holds a {earlier.get('size')}px copy of {earlier.get('source')}; "
                               f"choose another output folder for a {size}px copy of {src}")
    jobs = _jobs(src, dst)
    dst.mkdir(parents=True, exist_ok=True)
    for stale in dst.rglob(".*.tmp"):  # left by an interrupted run
        stale.unlink(missing_ok=True)
    report = PrepareReport(str(src), str(dst), size)
    start = time.time()
    workers = default_workers() if workers is None else workers
    tasks = [(s, t, size, quality) for s, t in jobs]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=f"prepare {size}x{size}", unit="img")
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"  # fork: no re-import of torch
    pool = mp.get_context(method).Pool(workers, initializer=_init_worker) if workers > 0 else None
    try:
        results = pool.imap_unordered(_work, tasks, chunksize=16) if pool else map(_work, tasks)
        for status, error in results:
            if bar is not None:
                bar.update()
            if status == "written":
                report.written += 1
            elif status == "done":
                report.already_done += 1
            else:
                if not skip_bad:
                    raise AlexNetError(f"{error} (rerun with --skip-bad to leave such files out)")
                report.bad.append(error)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if bar is not None:
            bar.close()
    for name in (*SYNSET_FILES, MARKER):
        for folder in (src, src.parent):
            if (folder / name).is_file():
                shutil.copy2(folder / name, dst / name)
                break
    report.seconds = round(time.time() - start, 2)
    record.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report
