"""Benchmark (make bench): every step of one enforcement run, in process, at 10k, 100k and 1M items.

For each size a fresh process writes a CSV export (the generated data set of bench/run.py:
items, a tenth as many incidents, postmortems, two status updates per item, history, a roster)
and an embedded store, then runs the enforcement tasks in order, timing each:
extract (CSV into the store), source contract (GE), rules (with the GE follow-up suite),
reconciliation, planning, dry-run dispatch and record. Figures go to bench/results.json:
`run_<size>_<step>_s`, `run_<size>_wall_s` (the steps together), `run_<size>_<step>_cpu_s` and
`run_<size>_cpu_s` (the process's CPU time: on a shared machine wall time includes waiting for a core) and
`run_<size>_peak_rss_mb`, plus `run_<size>_findings` and `run_<size>_actions`. Each size also
writes `run_<size>_machine_loop_s`, the time of a fixed CPU-bound loop just before its steps (the
machine's speed varies by up to half between hours; compare runs through it). The GE and
airflow.sdk imports are paid before the first step (once per worker, as in production) and
reported as `run_<size>_gx_import_s` and `run_<size>_airflow_import_s`.

    python bench/pipeline.py            # every size
    python bench/pipeline.py 10000      # one size
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.run import AS_OF, generated_frames, machine_loop_seconds, record  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
STEPS = ("extract_sources", "validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions",
         "dispatch_outbox", "record_run")
LABELS = {"extract_sources": "extract", "validate_source_contract": "contract", "evaluate_rules": "rules",
          "reconcile_findings": "reconcile", "plan_actions": "plan", "dispatch_outbox": "dispatch",
          "record_run": "record"}


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 and size % 1_000_000 == 0 else f"{size // 1000}k"


def as_export_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed frame as a CSV export holds it: ISO timestamps, dates, true/false, empty for missing."""
    out = pd.DataFrame(index=frame.index)
    for name, column in frame.items():
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            text = column.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            if name in ("due_date",):
                text = column.dt.strftime("%Y-%m-%d")
            out[name] = text.fillna("")
        elif column.dtype == bool:
            out[name] = np.where(column, "true", "false")
        else:
            out[name] = column.astype("string").fillna("")
    return out


def write_export(folder: Path, items: int) -> None:
    frames = generated_frames(items=items, incidents=max(items // 10, 100))
    folder.mkdir(parents=True, exist_ok=True)
    documents = folder / "postmortems"
    documents.mkdir(exist_ok=True)
    postmortems = frames["postmortems"]
    texts = pd.Series(postmortems["document_text"].unique())
    names = {text: f"postmortems/doc-{i}.md" for i, text in enumerate(texts)}
    for text, name in names.items():
        (folder / name).write_text(text)
    frames["postmortems"] = postmortems.drop(columns=["document_text"]).assign(
        document=postmortems["document_text"].map(names))
    for name, frame in frames.items():
        if name != "quarantine":
            as_export_strings(frame).to_csv(folder / f"{name}.csv", index=False)


def run_one(items: int) -> list[dict]:
    work = ROOT / "var" / f"bench-run-{label(items)}"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    write_export(work / "export", items)
    policy = work / "policy.yaml"
    policy.write_text(f"sources:\n  - {{name: bench, path: {work / 'export'}}}\n")
    os.environ.update(FOLLOWTHROUGH_HOME=str(work / "home"), FOLLOWTHROUGH_POLICY=str(policy))
    os.environ.pop("FOLLOWTHROUGH_DB_URL", None)
    # the chain is sealed under a key, as in production (the Connection followthrough_audit there)
    os.environ.setdefault("FOLLOWTHROUGH_AUDIT_KEY", "bench-audit-key-" + "0" * 16)

    machine_loop = machine_loop_seconds()
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (paid once per worker process)

    from followthrough import tasks

    gx_import = time.perf_counter() - started
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401  (a task process has imported it before any task runs)

    airflow_import = time.perf_counter() - started
    name = label(items)
    figures = [{"name": f"run_{name}_machine_loop_s", "value": round(machine_loop, 2), "unit": "s"},
               {"name": f"run_{name}_gx_import_s", "value": round(gx_import, 2), "unit": "s"},
               {"name": f"run_{name}_airflow_import_s", "value": round(airflow_import, 2), "unit": "s"}]
    run_id, as_of = f"bench-{name}", AS_OF.isoformat()
    total = 0.0
    cpu = time.process_time()
    results = {}
    for step in STEPS:
        function = getattr(tasks, step)
        started, step_cpu = time.perf_counter(), time.process_time()
        results[step] = function(run_id, "followthrough_enforce", as_of) if step == "extract_sources" \
            else function(run_id, as_of)
        took = time.perf_counter() - started
        total += took
        figures.append({"name": f"run_{name}_{LABELS[step]}_s", "value": round(took, 2), "unit": "s"})
        figures.append({"name": f"run_{name}_{LABELS[step]}_cpu_s", "value": round(time.process_time() - step_cpu, 2),
                        "unit": "s"})
        print(f"  {step}: {took:.2f} s ({figures[-1]['value']:.2f} s CPU)", file=sys.stderr, flush=True)
        # each step's figures and the peak so far are kept at once: a run stopped midway (memory, time)
        # still leaves what it measured
        record([*figures[-2:], {"name": f"run_{name}_peak_rss_mb", "unit": "MB",
                              "value": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}])
    figures += [
        {"name": f"run_{name}_wall_s", "value": round(total, 2), "unit": "s"},
        # the process's CPU time over the steps: the machine is shared, so wall time includes waiting
        {"name": f"run_{name}_cpu_s", "value": round(time.process_time() - cpu, 2), "unit": "s"},
        {"name": f"run_{name}_peak_rss_mb", "value": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
         "unit": "MB"},
        {"name": f"run_{name}_findings", "value": int(results["evaluate_rules"]["findings"]), "unit": "findings"},
        {"name": f"run_{name}_actions", "value": int(results["plan_actions"]["added"]), "unit": "actions"},
    ]
    return figures


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(run_one(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    for size in sizes:
        print(f"enforcement run over {size:,} action items", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=False,
                             stdout=subprocess.PIPE, text=True, check=True)
        record(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
