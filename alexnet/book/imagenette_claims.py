"""What the chapters show of the paper's ImageNet claims tested on Imagenette (Sections 3.2, 3.3, 3.4, 4.1,
6's ensembles, 6.1's Figure 3 and 7's depth; :mod:`alexnet.experiments.imagenette`): tables of the runs, the paired
verdicts' values, the ensembles and the per-run colour test. Values, tables and figures only.
"""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ..experiments.result import ExperimentResult
from .formatting import duration, pct, points
from .results import status

__all__ = ["ARMS", "COMMITS_WHY", "RUNS_CAPTION", "baseline_values", "claim_values", "paper_where", "ensemble_values", "colour_values", "arms_table", "runs_table", "ensemble_table",
           "colour_table", "provenance", "run_commits", "commits_note"]

#: What differs between the commits that trained the committed Imagenette runs (seeds 0 and 1 at 8ae6ada,
#: seed 2 at 3c0d9c0), said under the run tables where the runs come from more than one commit.
COMMITS_WHY = ("Both train the same settings (the records' keys are the same); from 3c0d9c0 on, LRN, the max "
               "pooling after it and the update run as C++ loops, which changes the last bits of the arithmetic "
               "and shortens the runs.")

#: The caption of :func:`runs_table`, whose headers are kept short so that it fits a page.
RUNS_CAPTION = ("Every run: top-1 / top-5 error (%) of its last epoch with one centre patch and with ten, the times "
                "the rate was divided by 10, training time on this project's machine, and the commit that trained it")

#: Each claim's two arms: (findings key, label), the baseline first.
ARMS = {
    "towers": (("two_towers", "two towers (the paper's net)"), ("one_tower", "one tower (footnote 2)")),
    "imagenette_lrn": (("with_lrn", "with LRN"), ("without_lrn", "without LRN")),
    "imagenette_pooling": (("overlapping", "overlapping pooling (3x3, stride 2)"),
                           ("non_overlapping", "non-overlapping (2x2, stride 2)")),
    "imagenette_pca": (("with_pca", "with PCA lighting"), ("without_pca", "without PCA lighting")),
    "imagenette_depth": (("with_conv4", "five conv layers (the paper's net)"), ("without_conv4", "without conv4")),
}


def claim_values(r: ExperimentResult | None, prefix: str, paper: dict[str, float] | None = None) -> dict[str, Any]:
    """Glue values of a paired claim: status, seeds, and for top-1 and top-5 error (one centre patch) the
    mean improvement, its 95% interval and half-width in points, the paper's effect (``paper``, used
    when there is no result yet), where that effect lies against the interval, and the verdict; "not
    run" where nothing is committed."""
    out: dict[str, Any] = {f"{prefix}_status": status(r), f"{prefix}_seeds": str(r.claim.improvement["n"]) if r else "0"}
    pairs = r.claim.improvement["n"] if r else 0
    out[f"{prefix}_pairs"] = f"{pairs} paired seed{'' if pairs == 1 else 's'}"
    for k in ("top1", "top5"):
        v = (r.claim if k == "top1" else r.verdict_of("top5")) if r is not None else None
        effect = v.paper_effect if v is not None and v.paper_effect is not None else (paper or {}).get(f"{k}_error")
        iv = v.interval if v is not None else None
        out[f"{prefix}_{k}_verdict"] = v.verdict if v is not None and r.progress.complete else status(r)
        out[f"{prefix}_{k}_mean"] = points(v.improvement["mean"]) if v is not None and v.improvement["n"] else "not run"
        out[f"{prefix}_{k}_interval"] = f"{points(iv[0])} to {points(iv[1])}" if iv else "no interval"
        out[f"{prefix}_{k}_half"] = points(v.half_width, sign=False) if v is not None and v.half_width is not None \
            else "n/a"
        out[f"{prefix}_{k}_paper"] = points(effect, sign=False) if effect is not None else "n/a"
        out[f"{prefix}_{k}_paper_where"] = paper_where(effect, iv)
    return out


def paper_where(effect: float | None, interval: tuple[float, float] | None) -> str:
    """Where the paper's effect lies against our 95% interval of the same difference, in words."""
    if effect is None:
        return "no figure in the paper"
    if not interval:
        return "no interval yet"
    lo, hi = interval
    return ("inside our interval" if lo <= effect <= hi else
            "above our interval: a gain that large is outside what our seeds allow" if effect > hi else
            "below our interval")


def ensemble_values(r: ExperimentResult | None) -> dict[str, Any]:
    """Glue values of Table 2's row at our scale: status, networks, one network's mean top-1 error (one
    patch, over the seeds), the ensemble's, and the verdict on each member minus the ensemble."""
    if r is None:
        return {"ens_status": "not run", "ens_members": "0", "ens_single": "not run", "ens_all": "not run",
                "ens_gain": "not run", "ens_interval": "no interval", "ens_paper_where": "no interval yet",
                "ens_verdict": "not run"}
    whole = r.findings["ensembles"]["centre"]["all"]
    single = r.findings["summary"]["centre_top1_error"]
    iv = r.claim.interval
    return {"ens_status": status(r), "ens_members": str(r.findings["members"]),
            "ens_single": f"{pct(single['mean'])} ± {points(single['std'], sign=False)}" if single["n"] else "not run",
            "ens_all": pct(whole["top1_error"]) if whole else "not run",
            "ens_gain": points(r.claim.improvement["mean"]) if r.claim.improvement["n"] else "not run",
            "ens_interval": f"{points(iv[0])} to {points(iv[1])}" if iv else "no interval",
            "ens_paper_where": paper_where(r.claim.paper_effect, iv),
            "ens_verdict": r.verdict if r.progress.complete else status(r)}


def baseline_values(r: ExperimentResult | None) -> dict[str, Any]:
    """Glue values of the headline over the baseline seeds (the ensemble's members, one per seed): how
    many, and each error's mean ± standard deviation with one patch and ten ("not run" without them)."""
    s = (r.findings.get("summary") or {}) if r is not None else {}
    n = s.get("centre_top1_error", {}).get("n", 0)
    out: dict[str, Any] = {"base_seeds": f"{n} seed{'' if n == 1 else 's'}"}
    for key in ("centre_top1_error", "centre_top5_error", "ten_crop_top1_error", "ten_crop_top5_error"):
        v = s.get(key)
        spread = f" ± {points(v['std'], sign=False)}" if v and v["n"] > 1 else ""
        out[f"base_{key}"] = f"{pct(v['mean'])}{spread}" if v and v["n"] else "not run"
    out["base_range"] = (f"{pct(s['centre_top1_error']['min'])} to {pct(s['centre_top1_error']['max'])}"
                         if n else "not run")
    return out


def colour_values(r: ExperimentResult | None) -> dict[str, Any]:
    """Glue values of Figure 3 in every run: runs tested, runs whose towers differ at p < 0.01, verdict."""
    if r is None:
        return {"colour_runs": "0", "colour_held": "0", "colour_verdict": "not run", "colour_status": "not run"}
    return {"colour_runs": str(len(r.findings["runs"])), "colour_held": str(r.findings["held"]),
            "colour_verdict": r.verdict if r.progress.complete else status(r), "colour_status": status(r)}


def arms_table(r: ExperimentResult | None, name: str) -> pd.DataFrame:
    """Mean +- standard deviation over seeds of each arm's errors (one patch and ten) and its training time."""
    rows = []
    for key, label in ARMS[name]:
        s = (r.findings.get("summary") or {}).get(key) if r is not None else None
        if not s or not s["centre_top1_error"]["n"]:
            continue

        def pm(k: str) -> str:  # no spread from one seed: the mean alone
            spread = f" ± {points(s[k]['std'], sign=False)}" if s[k]["n"] > 1 else ""
            return f"{pct(s[k]['mean'])}{spread}"
        rows.append({"network": label, "seeds": s["centre_top1_error"]["n"],
                     "top-1 (1 patch)": pm("centre_top1_error"), "top-5 (1 patch)": pm("centre_top5_error"),
                     "top-1 (10 patches)": pm("ten_crop_top1_error"), "top-5 (10 patches)": pm("ten_crop_top5_error"),
                     "training time per run": duration(s["seconds"]["mean"])})
    return pd.DataFrame(rows)


def run_commits(r: ExperimentResult | None) -> dict[tuple[str, int], str]:
    """``{(variant, seed): short commit}`` of every run behind ``r``, read from its record file and,
    for a claim that shares the baseline runs, from the baseline's (``{}`` where there are none)."""
    if r is None or r.path is None:
        return {}
    from ..experiments.records import records_path

    files = [records_path(r.path)]
    shared = r.findings.get("shared_baseline")
    if shared:
        files.append(r.path.parent.parent / shared / records_path(r.path).name)
    commits: dict[tuple[str, int], str] = {}
    for file in files:
        for line in file.read_text().splitlines() if file.exists() else []:
            try:
                entry = json.loads(line)
                commits[(entry["key"]["variant"], int(entry["key"]["seed"]))] = (entry.get("git_commit") or "")[:7]
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line: the records' own reader repairs it
    return commits


def commits_note(r: ExperimentResult | None, why: str = COMMITS_WHY, paired: bool = True) -> str:
    """Which commit trained which seeds, where the runs come from more than one (else ""), with
    ``why`` (what differs between them), and for a ``paired`` claim whether each seed's pair comes
    from one commit."""
    commits = run_commits(r)
    by_commit: dict[str, set[int]] = {}
    for (_, seed), commit in commits.items():
        by_commit.setdefault(commit, set()).add(seed)
    if len(by_commit) < 2:
        return ""
    split = sorted(s for s in {seed for _, seed in commits}
                   if len({c for (_, sd), c in commits.items() if sd == s}) > 1)
    parts = [f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))} at commit {commit}"
             for commit, seeds in sorted(by_commit.items(), key=lambda item: min(item[1]))]
    said = f"The runs come from {len(by_commit)} commits: {'; '.join(parts)}." + (f" {why}" if why else "")
    if not paired:
        return said
    if split:
        return said + f" The pairs of seed{'s' if len(split) > 1 else ''} {', '.join(map(str, split))} mix commits."
    return said + " Each seed's runs come from one commit, so each paired difference does too."


def runs_table(r: ExperimentResult | None, name: str) -> pd.DataFrame:
    """Every run of both arms (short labels, so that the table fits a page): seed, parameters, epochs,
    rate reductions, top-1 / top-5 error with one patch and ten, training time, and the commit that
    trained it (:data:`RUNS_CAPTION` says so under the short headers)."""
    rows = []
    commits = run_commits(r)
    for key, label in ARMS[name]:
        for run in (r.findings.get("runs", {}).get(key, []) if r is not None else []):
            rows.append({"network": label.split(" (")[0], "seed": run["seed"], "parameters": f"{run['parameters']:,}",
                         "epochs": run["epochs"], "lr drops": run["lr_drops"],
                         "1 patch": f"{pct(run['centre']['top1_error'])} / "
                                                    f"{pct(run['centre']['top5_error'])}",
                         "10 patches": f"{pct(run['ten_crop']['top1_error'])} / "
                                                      f"{pct(run['ten_crop']['top5_error'])}",
                         "time": duration(run["seconds"]),
                         "commit": commits.get((run["variant"], run["seed"]), "-")})
    return pd.DataFrame(rows)


def ensemble_table(r: ExperimentResult | None) -> pd.DataFrame:
    """Table 2's row at our scale: the averaged predictions of the first k networks, for each k."""
    if r is None:
        return pd.DataFrame()
    views = r.findings["ensembles"]
    rows = []
    for one, ten in zip(views["centre"]["sizes"], views["ten_crop"]["sizes"]):
        rows.append({"networks averaged": one["k"], "top-1 (1 patch)": pct(one["top1_error"]),
                     "top-5 (1 patch)": pct(one["top5_error"]), "top-1 (10 patches)": pct(ten["top1_error"]),
                     "top-5 (10 patches)": pct(ten["top5_error"])})
    return pd.DataFrame(rows)


def colour_table(r: ExperimentResult | None) -> pd.DataFrame:
    """Section 6.1's colour test for each run: each tower's mean colour specificity, which tower is the
    colour-specific one, the permutation p-value of the gap, and the commit that trained the run."""
    rows = []
    commits = run_commits(r)
    for run in (r.findings.get("runs", []) if r is not None else []):
        t1, t2 = run["towers"]
        rows.append({"seed": run["seed"], "tower 1": f"{t1['mean']:.2f}", "tower 2": f"{t2['mean']:.2f}",
                     "colour-specific tower": run["colour_specific_tower"], "p": f"{run['p_value']:.4f}",
                     "commit": commits.get(("baseline", run["seed"]), "-")})
    return pd.DataFrame(rows, columns=["seed", "tower 1", "tower 2", "colour-specific tower", "p", "commit"])


def provenance(r: ExperimentResult | None) -> str:
    """The provenance line under a result, or the plain statement that it has not been run."""
    from .results import provenance_line

    return provenance_line(r) if r is not None else "*Not run yet: no committed result.*"
