"""The user-space pipeline benchmark (utilities/bench/WriteTracer.Benchmarks, BenchmarkDotNet):
runs it and reads its JSON report and its replay checks, for each compiler (job): JIT and NativeAOT."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess

from harness import BenchError

PROJECT = os.path.join("utilities", "bench", "WriteTracer.Benchmarks")
_CHECK = re.compile(r"replay check: job=(\w+) payload=(\w+) fed=(\d+) captured=(\d+) malformed=(\d+) delivered=(\d+) dropped=(\d+)")
# "PipelineBenchmarks.pipeline: NativeAOT(Toolchain=…) [Payload=Text64]": the job's id follows the method.
_JOB = re.compile(r": (\w+)\(")


def run(root: str, out_dir: str, quick: bool) -> dict:
    """Returns {job: {payload: {"pipeline": {...}, "raw copy": {...}, "check": {...}}}}, ns and bytes per event;
    a benchmark that failed (no statistics) is left out."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    log_path = os.path.join(out_dir, "benchmark.log")
    print(f"bench: user-space pipeline (BenchmarkDotNet), log in {os.path.relpath(log_path, root)}", flush=True)
    argv = ["dotnet", "run", "--no-build", "-c", "Release", "--project", PROJECT, "--", "--artifacts", out_dir]
    with open(log_path, "w") as log:
        done = subprocess.run(argv + (["--quick"] if quick else []), cwd=root, stdout=log, stderr=subprocess.STDOUT)
    with open(log_path) as f:
        text = f.read()
    if done.returncode != 0:
        raise BenchError(f"the pipeline benchmark failed (exit {done.returncode}):\n{text[-3000:]}")
    reports = glob.glob(os.path.join(out_dir, "results", "*-report-full.json"))
    if not reports:
        raise BenchError(f"the pipeline benchmark wrote no JSON report:\n{text[-3000:]}")
    with open(reports[0]) as f:
        report = json.load(f)
    return read(report, text)


def read(report: dict, log: str) -> dict:
    """The results of a JSON report and the log holding the replay checks (see run)."""
    results: dict = {}
    for case in report["Benchmarks"]:
        if not case.get("Statistics"):
            continue
        job = _JOB.search(case["DisplayInfo"]).group(1)
        payload = case["Parameters"].split("=", 1)[1]
        results.setdefault(job, {}).setdefault(payload, {})[case["MethodTitle"].strip("'")] = {
            "ns_per_event": case["Statistics"]["Median"],
            "bytes_per_event": case["Memory"]["BytesAllocatedPerOperation"],
        }
    for job, payload, fed, captured, malformed, delivered, dropped in _CHECK.findall(log):
        if int(fed) > 0:  # the baseline's cleanup feeds nothing
            results.setdefault(job, {}).setdefault(payload, {})["check"] = {
                "fed": int(fed), "captured": int(captured), "malformed": int(malformed),
                "delivered": int(delivered), "dropped": int(dropped)}
    return results
