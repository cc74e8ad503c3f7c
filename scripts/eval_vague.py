"""Evaluate the AI-VAGUE detector on the labelled development set, and time it.

Prints precision, recall and F1 (vague = positive class), the confusion matrix, the figures
per source, every misclassified row with the reasons the detector gave, and the time
``assess_summaries`` takes on N summaries sampled with replacement from the development set
(1,000,000 by default). ``--distinct`` also times N summaries made (nearly) all distinct,
the worst case for the per-distinct-value evaluation.

Usage::

    .venv/bin/python scripts/eval_vague.py [--data CSV] [--rows N] [--distinct] [--no-timing]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from followthrough.rules.vague import assess_summaries

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "action_items_labelled.csv"
SUFFIX_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["vague"] = frame["vague"].str.strip().str.lower().map({"true": True, "false": False})
    if frame["vague"].isna().any():
        raise SystemExit(f"{path}: the vague column must be true/false")
    return frame


def scores(truth: pd.Series, predicted: pd.Series) -> dict[str, float]:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    tn = int((~truth & ~predicted).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1}


def source_of(url: str) -> str:
    parts = url.split("/")
    if "github.com" in url and len(parts) > 4:
        return "/".join(parts[3:5])
    return parts[2] if len(parts) > 2 else url


def report(frame: pd.DataFrame) -> None:
    result = assess_summaries(frame["summary"])
    truth = frame["vague"].astype(bool)
    predicted = result["vague"].astype(bool)
    s = scores(truth, predicted)
    print(f"development set: {len(frame)} items, {int(truth.sum())} vague ({truth.mean():.1%})")
    print(f"precision {s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}")
    print()
    print("confusion matrix (rows: label, columns: prediction)")
    print(f"{'':>16}{'vague':>10}{'concrete':>10}")
    print(f"{'label vague':>16}{s['tp']:>10}{s['fn']:>10}")
    print(f"{'label concrete':>16}{s['fp']:>10}{s['tn']:>10}")
    print()
    print("per source")
    for source, rows in frame.groupby(frame["source_url"].map(source_of)):
        part = scores(truth[rows.index], predicted[rows.index])
        print(
            f"  {source:42s} n={len(rows):3d} vague={int(truth[rows.index].sum()):3d} "
            f"tp={part['tp']:3d} fp={part['fp']:3d} fn={part['fn']:3d}"
        )
    print()
    wrong = frame.index[truth != predicted]
    print(f"misclassified: {len(wrong)}")
    for i in wrong:
        kind = "FP" if predicted[i] else "FN"
        codes = "; ".join(f"{r['code']}: {r['detail']}" for r in result.at[i, "reasons"]) or "-"
        print(f"  {kind} {frame.at[i, 'id']} | {frame.at[i, 'summary']}")
        print(f"       detector: {codes}")
        if frame.at[i, "note"]:
            print(f"       label note: {frame.at[i, 'note']}")


def time_it(frame: pd.DataFrame, rows: int, distinct: bool) -> None:
    sample = frame["summary"].sample(rows, replace=True, random_state=0).reset_index(drop=True)
    cores = os.cpu_count()
    start = time.perf_counter()
    assess_summaries(sample)
    elapsed = time.perf_counter() - start
    print()
    print(
        f"assess_summaries on {rows:,} summaries sampled with replacement "
        f"({sample.nunique():,} distinct), {cores} cores: {elapsed:.2f} s"
    )
    if distinct:
        rng = pd.Series(range(rows)).sample(frac=1.0, random_state=1).to_numpy()
        words = pd.Series(SUFFIX_WORDS)
        suffix = (
            words.iloc[rng % 26].to_numpy()
            + " "
            + words.iloc[(rng // 26) % 26].to_numpy()
            + " "
            + words.iloc[(rng // 676) % 26].to_numpy()
        )
        varied = sample + " (" + pd.Series(suffix) + ")"
        start = time.perf_counter()
        assess_summaries(varied)
        elapsed = time.perf_counter() - start
        print(
            f"assess_summaries on {rows:,} summaries made nearly distinct "
            f"({varied.nunique():,} distinct), {cores} cores: {elapsed:.2f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", action="store_true", help="also time nearly distinct summaries")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args(argv)
    frame = load(args.data)
    report(frame)
    if not args.no_timing:
        time_it(frame, args.rows, args.distinct)
    return 0


if __name__ == "__main__":
    sys.exit(main())
