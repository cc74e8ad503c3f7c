"""Evaluate the postmortem text checks against the labelled corpus in ``tests/data/postmortems``.

Prints, for each of the five sections, accuracy, precision and recall of ``detect_sections``
against ``labels.csv``; every mistake with the heading the detector used; and the
blame-first results (per file: expected, found, and the quotes found).

Usage::

    .venv/bin/python scripts/eval_postmortems.py [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from followthrough.rules.postmortem_text import SECTIONS, detect_sections, find_blame

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "postmortems"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif got:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else float("nan")

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    def line(self, name: str) -> str:
        return (
            f"{name:<12} acc {self.accuracy():6.3f}  prec {self.precision():6.3f}  rec {self.recall():6.3f}  "
            f"(tp {self.tp}, fp {self.fp}, tn {self.tn}, fn {self.fn})"
        )


def _flag(value: str) -> bool:
    if value.strip().lower() not in {"true", "false"}:
        raise ValueError(f"label {value!r} is not true/false")
    return value.strip().lower() == "true"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with labels.csv and the documents")
    args = parser.parse_args(argv)

    with (args.data / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    counts = {s: Counts() for s in SECTIONS}
    blame = Counts()
    mistakes: list[str] = []
    blame_lines: list[str] = []
    for row in rows:
        text = (args.data / row["file"]).read_text(encoding="utf-8")
        result = detect_sections(text)
        for section in SECTIONS:
            expected, status = _flag(row[section]), result[section]
            counts[section].add(expected, status.present)
            if expected != status.present:
                how = "empty heading" if status.empty else ("heading" if status.heading else "no heading")
                mistakes.append(
                    f"  {row['file']}: {section} expected {expected}, got {status.present} "
                    f"({how}{': ' + repr(status.heading) if status.heading else ''})"
                )
        quotes = find_blame(text)
        expected_blame = _flag(row["blame"])
        blame.add(expected_blame, bool(quotes))
        if quotes or expected_blame:
            verdict = "ok" if expected_blame == bool(quotes) else "MISTAKE"
            blame_lines.append(f"  {row['file']}: expected {expected_blame}, found {len(quotes)} [{verdict}]")
            blame_lines.extend(f"      [{q.phrase}] {q.quote}" for q in quotes)

    n = len(rows)
    print(f"Postmortem corpus: {n} documents in {args.data}")
    print("\nSections (present vs labelled):")
    for section in SECTIONS:
        print("  " + counts[section].line(section))
    overall = Counts(
        sum(c.tp for c in counts.values()),
        sum(c.fp for c in counts.values()),
        sum(c.tn for c in counts.values()),
        sum(c.fn for c in counts.values()),
    )
    print("  " + overall.line("overall"))
    print(f"\nMistakes ({len(mistakes)}):")
    print("\n".join(mistakes) if mistakes else "  none")
    print("\nBlame-first language:")
    print("  " + blame.line("blame"))
    print("\n".join(blame_lines) if blame_lines else "  no document labelled or found with blame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
