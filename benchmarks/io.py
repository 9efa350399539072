"""Speed and memory of loading runs, against generic readers of the same files.

Two measurements, each in a fresh subprocess so that peak resident memory
(VmHWM) belongs to that reader alone:

1. ``metabench.load("data/runs")`` of the bundled per-item runs (target: < 2 s).
2. Ingest of an lm-evaluation-harness ``--log_samples`` tree of about 1 GB, built
   by repeating the real sample lines of ``tests/fixtures/lm_eval`` (each line is
   padded with a long document text, as real MMLU/MedQA samples carry the prompt,
   the document and every choice). metabench streams the samples line by line;
   the peers are ``polars.read_ndjson`` and ``pandas.read_json(lines=True)``,
   which parse whole files into memory. Peers run under a memory cap and are
   reported as "out of memory" if they exceed it.

Usage::

    python benchmarks/io.py                 # 1 GB tree
    python benchmarks/io.py --size-mb 200   # smaller, quicker

It prints a table of seconds and peak MiB per reader, and the ratios to metabench.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "lm_eval"

CHILD = r"""
import json, sys, time, resource
kind, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if kind == "metabench":
    import metabench
    r = metabench.load(path)
    rows = len(r)
elif kind == "polars":
    import glob, polars as pl
    rows = 0
    for f in sorted(glob.glob(path + "/**/samples_*.jsonl", recursive=True)):
        df = pl.read_ndjson(f)
        rows += df.height
elif kind == "pandas":
    import glob, pandas as pd
    rows = 0
    for f in sorted(glob.glob(path + "/**/samples_*.jsonl", recursive=True)):
        df = pd.read_json(f, lines=True)
        rows += len(df)
dt = time.perf_counter() - t0
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
print(json.dumps({"seconds": dt, "peak_mib": hwm, "rows": rows}))
"""


def _child(kind: str, path: Path, mem_cap_gib: float | None = None) -> dict:
    def limit() -> None:
        if mem_cap_gib:
            cap = int(mem_cap_gib * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"seconds": float("nan"), "peak_mib": float("nan"), "rows": 0, "error": "out of memory" if "Memory" in tail or "memory" in tail else tail[:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_tree(dest: Path, size_mb: int, pad_chars: int = 6000) -> int:
    """Write a samples tree of about ``size_mb`` MB from the fixture's real lines; returns the rows."""
    run_dirs = sorted(p for p in (FIXTURE / "output").iterdir() if p.is_dir())
    if not run_dirs:
        raise SystemExit(f"no lm-eval fixture under {FIXTURE}")
    src = run_dirs[0]
    results = sorted(src.glob("results_*.json"))[0]
    samples = sorted(src.glob("samples_mb_mc_*.jsonl"))  # the multiple-choice task: acc and acc_norm per line
    mc = [json.loads(line) for f in samples for line in f.read_text().splitlines() if line.strip()]
    pad = ("The patient presents with a history of intermittent symptoms. " * (pad_chars // 60 + 1))[:pad_chars]
    target = size_mb * 2**20
    written = rows = 0
    n_files = 8
    per_file = target // n_files
    for k in range(n_files):
        run = dest / f"model-{k % 2}"
        run.mkdir(parents=True, exist_ok=True)
        ts = f"2026-01-0{k // 2 + 1}T00-00-00.000000"
        shutil.copy(results, run / f"results_{ts}.json")
        task = f"bench{k}"
        with open(run / f"samples_{task}_{ts}.jsonl", "w") as fh:
            size = 0
            doc_id = 0
            while size < per_file:
                t = dict(mc[doc_id % len(mc)])
                t["doc_id"] = doc_id
                doc = dict(t.get("doc") or {})
                doc["context"] = pad
                t["doc"] = doc
                line = json.dumps(t) + "\n"
                fh.write(line)
                size += len(line)
                doc_id += 1
            written += size
            rows += doc_id
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the lm-eval samples tree (default 1024)")
    ap.add_argument("--peer-cap-gib", type=float, default=12.0, help="memory cap for the peer readers")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()

    print("## Bundled runs: metabench.load('data/runs')")
    r = _child("metabench", ROOT / "data" / "runs")
    print(f"rows {r['rows']:,}  seconds {r['seconds']:.2f}  peak {r['peak_mib']:.0f} MiB  (target < 2 s)")
    print()

    tmp = Path(tempfile.mkdtemp(prefix="metabench-bench-"))
    try:
        t0 = time.perf_counter()
        rows = build_tree(tmp, args.size_mb)
        size = sum(p.stat().st_size for p in tmp.rglob("*")) / 2**20
        print(f"## lm-eval samples tree: {size:,.0f} MiB, {rows:,} sample lines (built in {time.perf_counter() - t0:.0f} s)")
        res = {"metabench (streaming)": _child("metabench", tmp)}
        if not args.skip_peers:
            res["polars.read_ndjson"] = _child("polars", tmp, args.peer_cap_gib)
            res["pandas.read_json(lines=True)"] = _child("pandas", tmp, args.peer_cap_gib)
        base = res["metabench (streaming)"]
        print(f"{'reader':32s} {'rows':>10s} {'seconds':>9s} {'peak MiB':>9s} {'time ×':>7s} {'memory ×':>9s}")
        for name, r in res.items():
            if "error" in r:
                print(f"{name:32s} {'—':>10s} {'—':>9s} {'—':>9s} {'—':>7s} {'—':>9s}  ({r['error']}, cap {args.peer_cap_gib} GiB)")
                continue
            print(
                f"{name:32s} {r['rows']:>10,d} {r['seconds']:>9.1f} {r['peak_mib']:>9.0f} "
                f"{r['seconds'] / base['seconds']:>7.2f} {r['peak_mib'] / base['peak_mib']:>9.2f}"
            )
        print(f"\nmetabench peak memory / tree size: {base['peak_mib'] / size:.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    main()
