"""Per-invocation latency: wall time of one ``seqvision`` process, beside one Tesseract process on the same line.

People call OCR tools once per file from shell loops, Makefiles and workflow engines, so what they feel
first is the time from ``exec`` to the answer: interpreter start, imports, model load, one line. Each
command runs as its own subprocess ``--runs`` times (after one untimed run that warms the file cache);
the table shows the median and the ratio to Tesseract's median (``tesseract LINE - --psm 7 -l eng``,
``OMP_THREAD_LIMIT=1``; its model loads in every process too). seqvision reads with ``--threads 1``, on
torch, onnxruntime and (where it is installed) OpenVINO.
Then ``python -X importtime`` says which imports ``read --backend onnx`` spends its time on.

    python benchmarks/startup.py                      # the table; writes benchmarks/results/startup.json
    python benchmarks/startup.py --runs 3 --no-json   # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LINE = ROOT / "examples" / "lines" / "line1.png"
MODELS = ("print-en", "hooker-en")
BACKENDS = ("torch", "onnx", *(("openvino",) if importlib.util.find_spec("openvino") else ()))
SEQVISION = [sys.executable, "-m", "seqvision"]


def commands(line: Path) -> list[tuple[str, list[str]]]:
    """(label, argv) of every timed command: the Python floor, help, models, each read, Tesseract."""
    rows = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
        ("seqvision --help", [*SEQVISION, "--help"]),
        ("seqvision models", [*SEQVISION, "models"]),
    ]
    for model in MODELS:
        for backend in BACKENDS:
            argv = [*SEQVISION, "read", model, str(line), "--backend", backend, "--threads", "1"]
            rows.append((f"seqvision read {model} --backend {backend}", argv))
    if shutil.which("tesseract"):
        rows.append(
            ("tesseract LINE - --psm 7 (one process)", ["tesseract", str(line), "-", "--psm", "7", "-l", "eng"])
        )
    return rows


def time_runs(argv: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], str]:
    """Wall seconds of ``runs`` subprocesses after one untimed warm-up; the output of the last."""
    out = ""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        out = done.stdout.strip()
        if i:
            times.append(seconds)
    return times, out


def biggest_imports(argv: list[str], env: dict[str, str], top: int = 5) -> list[dict[str, Any]]:
    """Where ``python -X importtime`` says the imports went: each package that seqvision (or the interpreter's
    start) imports directly, with everything it imports in turn (``numpy`` and its submodules), and seqvision's own
    modules by their self time. The rows add up to the whole import time, nothing counted twice."""
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, env=env)
    entries = []
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():  # not the header, nor other stderr
            depth = (len(fields[2]) - len(fields[2].lstrip()) - 1) // 2
            entries.append((depth, fields[2].strip(), int(fields[0]), int(fields[1])))
    totals: dict[str, float] = {}
    stack: list[tuple[int, str]] = []  # (depth, root package) of the enclosing imports
    for depth, name, own, cumulative in reversed(entries):  # reversed: each import before what it imported
        while stack and stack[-1][0] >= depth:
            stack.pop()
        root, parent = name.split(".")[0], stack[-1][1] if stack else None
        if root == "seqvision":
            totals["seqvision (own modules)"] = totals.get("seqvision (own modules)", 0) + own / 1000
        elif parent in (None, "seqvision"):
            totals[root] = totals.get(root, 0) + cumulative / 1000
        stack.append((depth, root))
    rows = [{"module": k, "ms": round(v, 1)} for k, v in totals.items()]
    return sorted(rows, key=lambda r: -r["ms"])[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per command (median; default 7)")
    ap.add_argument("--line", type=Path, default=LINE, help="the line image (default examples/lines/line1.png)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "startup.json")
    ap.add_argument("--no-json", action="store_true", help="print the table only")
    args = ap.parse_args()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    results = []
    for label, argv in commands(args.line):
        times, out = time_runs(argv, args.runs, env)
        results.append({"command": label, "argv": argv, "median_s": statistics.median(times), "runs_s": times})
        results[-1]["output"] = out if "read" in label or "tesseract" in label else ""
        print(f"  {label}: {statistics.median(times):.3f} s", file=sys.stderr)
    tesseract = next((r["median_s"] for r in results if r["command"].startswith("tesseract")), None)
    print(f"\nOne line ({args.line.name}), median of {args.runs} processes, wall seconds:\n")
    print("| command | median s | × Tesseract | output |")
    print("|---|---:|---:|---|")
    for r in results:
        ratio = f"{r['median_s'] / tesseract:.1f}×" if tesseract else "–"
        print(f"| `{r['command']}` | {r['median_s']:.3f} | {ratio} | {r['output'][:40]} |")
    for model in MODELS:
        texts = {r["output"] for r in results if r["command"].startswith(f"seqvision read {model} ")}
        if len(texts) > 1:
            print(f"\nwarning: {model} reads differently on {', '.join(BACKENDS)}: {sorted(texts)}", file=sys.stderr)
    read_onnx = [*SEQVISION, "read", MODELS[0], str(args.line), "--backend", "onnx", "--threads", "1"]
    imports = biggest_imports(read_onnx, env)
    print(f"\nBiggest imports of `seqvision read {MODELS[0]} --backend onnx` (python -X importtime, by package):\n")
    print("| package | ms |\n|---|---:|")
    for row in imports:
        print(f"| `{row['module']}` | {row['ms']:.0f} |")
    if not args.no_json:
        record = {
            "benchmark": "startup",
            "line": str(args.line.relative_to(ROOT) if args.line.is_relative_to(ROOT) else args.line),
            "runs": args.runs,
            "results": results,
            "tesseract_s": tesseract,
            "biggest_imports_read_onnx": imports,
            "machine": {
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
