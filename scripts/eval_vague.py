"""Evaluate AI-VAGUE by source: leave one organisation out, for every organisation.

Two detectors are scored on the labelled development set (``tests/data/action_items_labelled.csv``):

* the rules (``assess_summaries``, what ships): they have no fitted parameters, so each
  organisation's figure is the fixed rules applied to it;
* a learned combination, to decide whether one should ship: for each organisation an
  L2-regularised logistic regression over the interpretable features (``model_features``:
  the rules' reason codes and their inputs) is fitted on the *other* organisations and
  scores the one left out. The pooled figure counts every item once, predicted by a model
  that never saw its organisation. It does not beat the rules, so no model ships.
  ``scripts/eval_vague_learned.py`` tries richer models (words, word pairs, length; the
  rules' verdict; model-or-rules, model-and-rules) with hyperparameters chosen inside each
  training fold: none beats the rules either.

Prints precision, recall and F1 per organisation and pooled, then (``--errors``) the
left-out mistakes of the rules. ``--timing`` also times ``assess_summaries`` on N sampled
summaries.

Usage::

    .venv/bin/python scripts/eval_vague.py [--data CSV] [--errors] [--timing] [--rows N] [--write-verdicts CSV]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from followthrough.rules.vague import assess_summaries, model_features

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "action_items_labelled.csv"
THRESHOLD = 0.5


@dataclass
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, truth: np.ndarray, predicted: np.ndarray) -> Scores:
        return cls(int((truth & predicted).sum()), int((~truth & predicted).sum()),
                   int((truth & ~predicted).sum()), int((~truth & ~predicted).sum()))

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        n = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / n if n else 0.0

    def line(self) -> str:
        return f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f} acc {self.accuracy:.3f}"


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["vague"] = frame["vague"].str.strip().str.lower().map({"true": True, "false": False})
    if frame["vague"].isna().any():
        raise SystemExit(f"{path}: the vague column must be true/false")
    if "org" not in frame or (frame["org"] == "").any():
        raise SystemExit(f"{path}: every row needs an org (the source organisation)")
    return frame


def fit(features: np.ndarray, labels: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """An L2-regularised logistic regression (Newton's method in numpy): weights and bias."""
    x = np.column_stack([features, np.ones(len(features))])
    y = labels.astype(float)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not regularised
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def leave_one_org_out(frame: pd.DataFrame, features: np.ndarray) -> np.ndarray:
    """Each item's verdict from a model fitted on every organisation but its own."""
    truth = frame["vague"].to_numpy(dtype=bool)
    predicted = np.zeros(len(frame), dtype=bool)
    for org in frame["org"].unique():
        held = (frame["org"] == org).to_numpy()
        weights, bias = fit(features[~held], truth[~held])
        score = features[held] @ weights + bias
        predicted[held] = 1 / (1 + np.exp(-score)) >= THRESHOLD
    return predicted


def evaluate(frame: pd.DataFrame) -> dict[str, Scores]:
    """Pooled leave-one-organisation-out scores: {"rules": ..., "model": ...}."""
    truth = frame["vague"].to_numpy(dtype=bool)
    rules = assess_summaries(frame["summary"])["vague"].to_numpy(dtype=bool)
    features = model_features(frame["summary"]).to_numpy(dtype=float)
    model = leave_one_org_out(frame, features)
    return {"rules": Scores.of(truth, rules), "model": Scores.of(truth, model), "_rules": rules, "_model": model}  # type: ignore[dict-item]


def report(frame: pd.DataFrame, errors: bool) -> None:
    result = evaluate(frame)
    truth = frame["vague"].to_numpy(dtype=bool)
    rules, model = result["_rules"], result["_model"]  # type: ignore[misc]
    print(f"development set: {len(frame)} items from {frame['org'].nunique()} organisations, "
          f"{int(truth.sum())} vague ({truth.mean():.1%})")
    print("leave one organisation out (the model is fitted on the other organisations; the rules have no fitted"
          " parameters)")
    print(f"{'organisation':24s} {'n':>4s} {'vague':>5s}   {'rules':38s}   model")
    for org, rows in sorted(frame.groupby("org").groups.items(), key=lambda kv: -len(kv[1])):
        idx = frame.index.get_indexer(rows)
        r = Scores.of(truth[idx], rules[idx])
        m = Scores.of(truth[idx], model[idx])
        print(f"{org:24s} {len(idx):4d} {int(truth[idx].sum()):5d}   {r.line():38s}   {m.line()}")
    print(f"{'POOLED':24s} {len(frame):4d} {int(truth.sum()):5d}   {result['rules'].line():38s}   "
          f"{result['model'].line()}")
    better = "the model" if result["model"].f1 > result["rules"].f1 else "the rules"
    print(f"\npooled F1: rules {result['rules'].f1:.3f}, learned model {result['model'].f1:.3f}: {better} win")
    if errors:
        print("\nmistakes of the rules (FP: judged vague, labelled concrete)")
        for i in np.flatnonzero(rules != truth):
            print(f"  {'FP' if rules[i] else 'FN'} {frame.at[i, 'id']} [{frame.at[i, 'org']}] {frame.at[i, 'summary']}")


def time_it(frame: pd.DataFrame, rows: int) -> None:
    sample = frame["summary"].sample(rows, replace=True, random_state=0).reset_index(drop=True)
    start = time.perf_counter()
    assess_summaries(sample)
    print(f"\nassess_summaries on {rows:,} summaries ({sample.nunique():,} distinct), {os.cpu_count()} cores: "
          f"{time.perf_counter() - start:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--errors", action="store_true", help="list the left-out mistakes")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--write-verdicts", type=Path, metavar="CSV",
                        help="also write id,org,vague,rules_vague (scripts/eval_vague_transformer.py reads it)")
    args = parser.parse_args(argv)
    frame = load(args.data)
    report(frame, args.errors)
    if args.write_verdicts:
        verdicts = assess_summaries(frame["summary"])["vague"].to_numpy(dtype=bool)
        args.write_verdicts.parent.mkdir(parents=True, exist_ok=True)
        frame[["id", "org", "vague"]].assign(rules_vague=verdicts).to_csv(args.write_verdicts, index=False)
    if args.timing:
        time_it(frame, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
