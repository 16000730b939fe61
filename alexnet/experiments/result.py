"""An experiment's result, typed: what ``results/<experiment>/<profile>.json`` holds.

Every experiment (Sections 3.1, 3.3, 3.4, 4.1, 4.2) writes the same frame: the paper's claim, the
settings, the data it ran on, how many of its training runs are finished (:class:`Progress`),
where it ran (:class:`alexnet.provenance.Provenance`) and the verdict beside the paper's words.
What only one experiment measures (its tables over seeds, intervals, curves) is its ``findings``,
a mapping written at the top level of the JSON beside the frame's fields.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import AlexNetError
from ..provenance import Provenance

__all__ = ["ExperimentResult", "DataUsed", "Progress", "Verdict", "read_result"]


@dataclass
class DataUsed:
    """The CIFAR-10 images an experiment trained and tested on (or generated ones, ``synthetic``)."""

    description: str
    synthetic: bool
    root: str | None
    train_images: int
    test_images: int
    decoded_from_cache: bool = False
    load_seconds: float | None = None


@dataclass
class Progress:
    """How far the experiment got: its finished training runs (records) and when and where they ran."""

    complete: bool                 # every run the profile asks for is finished
    records: int                   # finished (variant, seed) runs
    trained_now: int               # of them, trained by the command that wrote the file
    first: str | None              # date of the first and the last record (UTC)
    last: str | None
    git_commits: list[str]
    devices: list[str]
    train_seconds: float           # training time summed over the records


@dataclass
class Verdict:
    """A claim judged by the 95% interval of its paired improvements (:func:`.common.verdict`).

    ``improvement`` summarises one improvement per seed, positive when the paper's claim holds
    (mean, std, min, max, n, values); ``interval`` is the 95% interval of its mean (``None`` with
    fewer than two seeds); ``min_effect`` the smallest improvement counted; ``paper_effect`` the
    paper's reported effect in the same unit (an interval inside +-it is "equivalent"; ``None``
    where the paper gives no number), ``half_width`` the interval's half-width.
    """

    verdict: str                   # "agrees", "disagrees", "equivalent" or "inconclusive"
    agrees_with_paper: bool
    explanation: str
    improvement: dict[str, Any]
    interval: list[float] | None
    min_effect: float = 0.0
    paper_effect: float | None = None
    half_width: float | None = None

    FIELDS = ("verdict", "agrees_with_paper", "explanation", "improvement", "interval", "min_effect")
    OPTIONAL = ("paper_effect", "half_width")  # absent from results written before they existed

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "verdict") -> Verdict:
        missing = [k for k in cls.FIELDS if k not in values]
        if missing:
            raise AlexNetError(f"{source}: not a verdict (no {', '.join(missing)})")
        return cls(**{k: values[k] for k in (*cls.FIELDS, *cls.OPTIONAL) if k in values})

    def to_dict(self) -> dict[str, Any]:
        """The verdict's JSON fields (the optional ones only when set, so older files round-trip)."""
        out = {k: getattr(self, k) for k in self.FIELDS}
        out.update({k: getattr(self, k) for k in self.OPTIONAL if getattr(self, k) is not None})
        return out


@dataclass
class ExperimentResult:
    """One experiment under one profile: the frame every experiment shares, and its ``findings``."""

    experiment: str
    profile: str
    paper_section: str
    paper_claim: str
    setting_note: str
    settings: dict[str, Any]
    data: DataUsed
    progress: Progress
    claim: Verdict                 # the paper's main claim, judged
    provenance: Provenance
    findings: dict[str, Any] = dataclasses.field(default_factory=dict)
    path: Path | None = None       # the file it was read from or written to (not part of the JSON)

    def to_dict(self) -> dict[str, Any]:
        """The JSON's layout: the frame's fields with the findings beside them."""
        return {"experiment": self.experiment, "profile": self.profile, "paper_section": self.paper_section,
                "paper_claim": self.paper_claim, "setting_note": self.setting_note, "settings": self.settings,
                "data": dataclasses.asdict(self.data), "progress": dataclasses.asdict(self.progress),
                **self.claim.to_dict(), **self.findings,
                "provenance": self.provenance.to_dict()}

    @property
    def verdict(self) -> str:
        """The main claim's verdict: "agrees", "disagrees", "equivalent" or "inconclusive"."""
        return self.claim.verdict

    def verdict_of(self, name: str) -> Verdict:
        """A further claim's verdict, kept among the findings under ``name`` (e.g. pooling's ``overfitting``)."""
        if name not in self.findings:
            raise AlexNetError(f"{self.path or self.experiment}: no verdict {name!r} among {sorted(self.findings)}")
        return Verdict.from_dict(self.findings[name], f"{self.path or self.experiment}: {name}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "result") -> ExperimentResult:
        """Read a result back; a missing field raises :class:`AlexNetError` naming ``source`` and the field."""
        frame = [f.name for f in dataclasses.fields(cls) if f.name not in ("findings", "path", "claim")]
        missing = [k for k in (*frame, *Verdict.FIELDS) if k not in values]
        if missing:
            raise AlexNetError(f"{source}: not an experiment result (no {', '.join(missing)}; written by "
                               "python -m alexnet experiment)")
        try:
            parts = {k: values[k] for k in frame}
            parts["data"] = DataUsed(**values["data"])
            parts["progress"] = Progress(**values["progress"])
            parts["provenance"] = Provenance.from_dict(values["provenance"], source)
        except TypeError as err:
            raise AlexNetError(f"{source}: {err}") from None
        claim = Verdict.from_dict(values, source)
        return cls(**parts, claim=claim,
                   findings={k: v for k, v in values.items()
                             if k not in (*frame, *Verdict.FIELDS, *Verdict.OPTIONAL)})


def read_result(path: str | Path) -> ExperimentResult:
    """The result in the JSON file ``path``; an error naming the file when it is not one."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise AlexNetError(f"{path}: not a result JSON ({err})") from None
    if not isinstance(values, dict):
        raise AlexNetError(f"{path}: not a result JSON (a {type(values).__name__}, not a mapping)")
    result = ExperimentResult.from_dict(values, str(path))
    result.path = path
    return result
