"""Can a learned model beat AI-VAGUE's rules on unseen organisations? Nested leave-one-org-out.

For every organisation of the labelled development set (``tests/data/action_items_labelled.csv``)
a model is fitted on the *other* organisations and scores the one left out; the pooled figure
counts every item once, predicted by a model that never saw its organisation. The model's
hyperparameters (regularisation C, the weight of the word block, the decision threshold) are
chosen *inside* each training fold, by grouped cross-validation over the training
organisations only (3 folds of whole organisations, balanced by item count): the left-out
organisation is never used to choose anything.

The model is an L2-regularised logistic regression (fitted with L-BFGS) over interpretable
inputs, in blocks named by letters:

* ``r``: the rules' features (``vague.model_features``: the seven reason codes and the
  anchors and markers behind them);
* ``v``: the rules' verdict (vague or not) as one more input;
* ``t``: words and adjacent word pairs, TF-IDF weighted, rows L2-normalised, vocabulary of
  terms in at least two training items (numbers as ``<num>``, code-like words also as
  ``<ident>``, the first word also as ``"<s> word"``); the block is scaled by a tuned weight;
* ``s``: length and structure (log characters, log words, ends with "?", several "?",
  has a digit, share of capitalised words, has a colon, has a comma), standardised on the
  training fold.

Each model is also combined with the rules: ``or`` (vague when the model or the rules say so)
and ``and`` (the model may veto the rules' verdict); the threshold is tuned for each
combination separately, inside the fold. Result (2026-12, 833 items, 22 organisations): no
variant beats the rules by more than one item pooled; re-run after the rules' second round
(913 items, 24 organisations, variants rvts and ts): none beats them (best 0.795, equal to the
rules), so no model ships (``tests/data/README.md``). Takes about ten minutes per variant on
one core.

Usage::

    .venv/bin/python scripts/eval_vague_learned.py [--variants r,rts,rvts,ts] [--per-org]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from followthrough.rules.vague import assess_summaries, model_features

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "action_items_labelled.csv"
GRID_C = (0.03, 0.1, 0.3, 1.0, 3.0)
GRID_TEXT_WEIGHT = (1.0, 3.0)
THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.1, 0.76, 0.05), 2))
INNER_FOLDS = 3
COMBINATIONS = ("model", "or", "and")

_URL = re.compile(r"https?://\S+|www\.\S+")
_TOKEN = re.compile(r"[a-z][a-z0-9]*(?:[-_./][a-z0-9]+)*|\d+(?:[.,]\d+)*")
_CODE_LIKE = re.compile(r"[-_./\d]")


def terms(text: str) -> set[str]:
    """Words and adjacent word pairs; numbers as <num>, code-like words also as <ident>."""
    words: list[str] = []
    for token in _TOKEN.findall(_URL.sub(" ", text.lower())):
        if token[0].isdigit():
            words.append("<num>")
        elif _CODE_LIKE.search(token):
            words.extend((token, "<ident>"))
        else:
            words.append(token)
    sequence = ["<s>", *words]
    return set(words) | {f"{a} {b}" for a, b in zip(sequence, sequence[1:], strict=False)}


def structure(text: str) -> list[float]:
    words = text.split()
    return [math.log1p(len(text)), math.log1p(len(words)), float(text.strip().endswith("?")),
            float(text.count("?") > 1), float(bool(re.search(r"\d", text))),
            sum(w[:1].isupper() for w in words[1:]) / max(1, len(words)), float(":" in text), float("," in text)]


def f1(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def fit(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    """L2-regularised logistic regression (bias unpenalised): weights, bias last."""
    xb = np.column_stack([x, np.ones(len(x))])
    target = y.astype(float)
    penalty = np.full(xb.shape[1], 1.0 / c)
    penalty[-1] = 0.0

    def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ w
        loss = float(np.sum(np.logaddexp(0, z) - target * z) + 0.5 * np.sum(penalty * w * w))
        return loss, xb.T @ (1 / (1 + np.exp(-z)) - target) + penalty * w

    result = minimize(loss_and_gradient, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": 2000, "gtol": 1e-7})
    return np.asarray(result.x)


class Data:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.y = frame["vague"].to_numpy(dtype=bool)
        self.orgs = frame["org"].to_numpy()
        texts = frame["summary"].tolist()
        self.terms = [terms(t) for t in texts]
        self.structure = np.array([structure(t) for t in texts])
        self.rule_features = model_features(frame["summary"]).to_numpy(dtype=float)
        self.rules = assess_summaries(frame["summary"])["vague"].to_numpy(dtype=bool)
        self._text_cache: dict[tuple[bytes, bytes], np.ndarray] = {}

    def text(self, train: np.ndarray, rows: np.ndarray) -> np.ndarray:
        key = (train.tobytes(), rows.tobytes())
        if key not in self._text_cache:
            if len(self._text_cache) > 8:
                self._text_cache.clear()
            self._text_cache[key] = self._tfidf(train, rows)
        return self._text_cache[key]

    def _tfidf(self, train: np.ndarray, rows: np.ndarray) -> np.ndarray:
        df: dict[str, int] = {}
        for i in train:
            for g in self.terms[i]:
                df[g] = df.get(g, 0) + 1
        vocabulary = sorted(g for g, n in df.items() if n >= 2)
        column = {g: j for j, g in enumerate(vocabulary)}
        idf = np.array([math.log((1 + len(train)) / (1 + df[g])) + 1 for g in vocabulary])
        x = np.zeros((len(rows), len(vocabulary)))
        for r, i in enumerate(rows):
            for g in self.terms[i]:
                j = column.get(g)
                if j is not None:
                    x[r, j] = idf[j]
            norm = np.linalg.norm(x[r])
            if norm:
                x[r] /= norm
        return x

    def design(self, kind: str, train: np.ndarray, rows: np.ndarray, text_weight: float) -> np.ndarray:
        blocks = []
        if "r" in kind:
            blocks.append(self.rule_features[rows])
        if "v" in kind:
            blocks.append(self.rules[rows, None].astype(float))
        if "t" in kind:
            blocks.append(text_weight * self.text(train, rows))
        if "s" in kind:
            mean, std = self.structure[train].mean(0), self.structure[train].std(0) + 1e-9
            blocks.append((self.structure[rows] - mean) / std)
        return np.column_stack(blocks)

    def probabilities(self, kind: str, train: np.ndarray, test: np.ndarray, c: float, text_weight: float) -> np.ndarray:
        x = self.design(kind, train, np.concatenate([train, test]), text_weight)
        w = fit(x[: len(train)], self.y[train], c)
        return 1 / (1 + np.exp(-(np.column_stack([x[len(train):], np.ones(len(test))]) @ w)))


def combine(predicted: np.ndarray, rules: np.ndarray, how: str) -> np.ndarray:
    return predicted | rules if how == "or" else (predicted & rules if how == "and" else predicted)


def organisation_folds(orgs: np.ndarray, k: int) -> list[list[str]]:
    """Whole organisations in k folds, largest first into the smallest fold."""
    folds: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for org, n in pd.Series(orgs).value_counts().sort_index(kind="stable").sort_values(ascending=False,
                                                                                         kind="stable").items():
        j = int(np.argmin(sizes))
        folds[j].append(str(org))
        sizes[j] += int(n)
    return folds


def nested(data: Data, kind: str) -> tuple[dict[str, np.ndarray], dict[str, dict[str, tuple[float, float, float]]]]:
    """Left-out predictions per combination, and the hyperparameters chosen for each organisation."""
    y, orgs, everything = data.y, data.orgs, np.arange(len(data.y))
    predictions = {how: np.zeros(len(y), dtype=bool) for how in COMBINATIONS}
    chosen: dict[str, dict[str, tuple[float, float, float]]] = {how: {} for how in COMBINATIONS}
    for org in np.unique(orgs):
        held = orgs == org
        train, test = everything[~held], everything[held]
        folds = organisation_folds(orgs[train], INNER_FOLDS)
        best = {how: (-1.0, (0.0, 0.0, 0.0)) for how in COMBINATIONS}
        for c in GRID_C:
            for text_weight in GRID_TEXT_WEIGHT if "t" in kind else (1.0,):
                inner = np.zeros(len(train))
                for fold in folds:
                    out = np.isin(orgs[train], fold)
                    inner[out] = data.probabilities(kind, train[~out], train[out], c, text_weight)
                for threshold in THRESHOLDS:
                    for how in COMBINATIONS:
                        score = f1(y[train], combine(inner >= threshold, data.rules[train], how))[2]
                        if score > best[how][0] + 1e-12:
                            best[how] = (score, (c, text_weight, threshold))
        fitted: dict[tuple[float, float], np.ndarray] = {}
        for how in COMBINATIONS:
            c, text_weight, threshold = best[how][1]
            chosen[how][str(org)] = best[how][1]
            if (c, text_weight) not in fitted:
                fitted[(c, text_weight)] = data.probabilities(kind, train, test, c, text_weight)
            predictions[how][held] = combine(fitted[(c, text_weight)] >= threshold, data.rules[held], how)
    return predictions, chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variants", default="r,ts,rts,rvts", help="comma-separated blocks: r, v, t, s")
    parser.add_argument("--per-org", action="store_true", help="print every organisation's figures")
    args = parser.parse_args(argv)
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    frame["vague"] = frame["vague"].str.strip().str.lower().map({"true": True, "false": False})
    data = Data(frame)
    y, orgs = data.y, data.orgs
    results = {"rules": data.rules}
    for kind in args.variants.split(","):
        predictions, _ = nested(data, kind)
        for how in COMBINATIONS:
            results[f"{kind}:{how}"] = predictions[how]
        print(f"{kind}: " + "; ".join(f"{how} P {p:.3f} R {r:.3f} F1 {f:.3f}" for how in COMBINATIONS
                                      for p, r, f in [f1(y, predictions[how])]), flush=True)
    print(f"\n{'variant':14s} pooled P/R/F1 over {len(y)} items, {len(set(orgs))} organisations, left out")
    for name, predicted in results.items():
        print(f"{name:14s} P {f1(y, predicted)[0]:.3f} R {f1(y, predicted)[1]:.3f} F1 {f1(y, predicted)[2]:.3f}")
    if args.per_org:
        names = list(results)
        print(f"\nF1 per organisation\n{'organisation':22s} {'n':>4s} " + " ".join(f"{n:>9s}" for n in names))
        for org, n in pd.Series(orgs).value_counts().items():
            held = orgs == org
            print(f"{org:22s} {n:4d} " + " ".join(f"{f1(y[held], results[k][held])[2]:9.2f}" for k in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
