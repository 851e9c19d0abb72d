#!/usr/bin/env python3
"""`make bench`: write-tracer against no tracer, strace and bpftrace on the same workloads,
in one run, repeated; prints one Markdown table (medians; every ratio against a baseline
measured in the same repetition) and keeps the raw results under build/bench/.

`bench.py --render results-….json` prints the report of a saved run again.
Environment: BENCH_RUNS (repetitions, default 5), BENCH_QUICK=1 (smaller workloads, one
repetition, a shorter pipeline benchmark), BENCH_ONLY=w1,w1v,w2,fork,untracked,pipeline."""

from __future__ import annotations

import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import pipeline
import report
from accounting import Summary, account
from harness import (BenchError, Bpftrace, HeldWriter, Strace, WriteTracer, count_occurrences,
                     fentry_link_count, reap, write_tracepoint_attachments)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(ROOT, "build", "bench")
WORK_DIR = os.path.join(OUT_DIR, "work")
TRACER = os.path.join(ROOT, "bin", "write-tracer")
WRITER = os.path.join(ROOT, "bin", "writer")
WRITER_GUARD_S = 900
QUIET_WAIT_S = 30           # per run, for another tracer to leave the write path
QUIET_WAIT_BUDGET_S = 300   # in all
DATA_FD = 3  # the writer's -o file
FENTRY = ("--attach", "fentry")  # measured beside the default attach point where the binary has it
RESOLVE_FDS = ("--resolve-fds",)  # fd_path on every event: the kernel's identity read, then a cache hit per event
SYSCALLS_ALL = ("--syscalls", "all")  # the whole write family: five tracepoints instead of one
W1V_IOVECS = 4  # W1's 64 bytes as one writev(2) of this many buffers


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    args: tuple[str, ...]
    data_writes: int      # writes to the data fd, by every process of the workload
    processes: int        # processes that write there

    @property
    def traced_writes(self) -> int:
        """Every write after release: the data, plus the writer's "writer done" line."""
        return self.data_writes + 1


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    divisor: int = 1      # the workload is shrunk by this much (strace would take minutes)
    tracer_args: tuple[str, ...] = ()  # extra write-tracer options


def quiet_loop(key: str, title: str, writes: int, size: int, path: str, *extra: str) -> Workload:
    return Workload(key, title, ("-q", str(writes), "-s", str(size), *extra, "-o", path), writes, 1)


def scaled(workload: Workload, divisor: int) -> Workload:
    if divisor == 1:
        return workload
    writes = workload.data_writes // divisor
    args = list(workload.args)
    args[args.index("-q") + 1] = str(writes)
    return Workload(workload.key, workload.title, tuple(args), writes, workload.processes)


def fork_workload(children: int) -> Workload:
    # The parent writes once, then each child once, and the first child's grandchild once.
    return Workload("fork", f"Fork: {children} short-lived children + 1 grandchild, one write each",
                    ("-c", str(children), "-n", "1", "-g", "-o", "/dev/null"), children + 2, children + 2)


class Bench:
    def __init__(self, quick: bool, runs: int, only: set[str]):
        self.quick = quick
        self.runs = runs
        self.only = only
        w1_writes, w2_writes, children = (200_000, 20_000, 100) if quick else (2_000_000, 200_000, 500)
        self.w1 = quiet_loop("w1", f"W1: {w1_writes:,} × 64 B to /dev/null, one thread", w1_writes, 64, "/dev/null")
        self.w1v = quiet_loop("w1v", f"W1v: {w1_writes:,} × 64 B to /dev/null, each a writev of {W1V_IOVECS} buffers, one thread",
                              w1_writes, 64, "/dev/null", "-v", str(W1V_IOVECS))
        self.w2 = quiet_loop("w2", f"W2: {w2_writes:,} × 4 KiB to a file", w2_writes, 4096,
                             os.path.join(WORK_DIR, "w2.data"))
        self.fork = fork_workload(children)
        self.file_output = False
        self.daemon = False
        self.fentry = False
        self.resolve_fds = False
        self.syscalls = False
        self.records: list[dict] = []
        self.quiet_budget_s = QUIET_WAIT_BUDGET_S / (5 if quick else 1)

    # ---- set-up -------------------------------------------------------------------------

    def probe_features(self) -> None:
        """The file sink and the daemon mode arrive on other branches: use them where the
        binary really has them (an option that parses is not enough: try it)."""
        help_text = subprocess.run([TRACER, "--help"], capture_output=True, text=True).stdout
        self.daemon = "--rest-port" in help_text
        self.fentry = "--attach" in help_text
        self.resolve_fds = "--resolve-fds" in help_text
        self.syscalls = "--syscalls" in help_text
        if "--file-output" in help_text:
            fresh_dir(WORK_DIR)
            probe = os.path.join(WORK_DIR, "probe.jsonl")
            done = subprocess.run([TRACER, "--metrics-port", "0", "-q", "-o", probe, "--",
                                   WRITER, "-n", "1", "-o", "/dev/null"],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise BenchError(f"write-tracer failed its start-up probe:\n{done.stderr[-2000:]}")
            self.file_output = count_occurrences(rotated(probe), b'"fd":%d,' % DATA_FD) == 1

    def other_tracers(self) -> list[str]:
        """BPF programs on the write path while none of ours runs: another tracer slows
        every writer on the host."""
        found = [" ".join(line.split()) for line in write_tracepoint_attachments()]
        links = fentry_link_count()
        return found + ([f"{links} fentry/fexit link(s), owners unknown"] if links else [])

    def wait_for_quiet_write_path(self) -> list[str]:
        """Gives another engineer's tracer a little time to go away, within a budget for
        the whole run (one that stays for good must not stall every run); returns what stayed."""
        start = time.monotonic()
        while (found := self.other_tracers()) and time.monotonic() - start < min(QUIET_WAIT_S, self.quiet_budget_s):
            time.sleep(1)
        self.quiet_budget_s -= time.monotonic() - start
        return found

    # ---- the measurements ---------------------------------------------------------------

    def traced_setups(self, scenario: str) -> list[Setup]:
        return [
            Setup("none", "no tracer"),
            Setup("wt-stdout", "write-tracer → stdout (/dev/null)"),
            *([Setup("wt-stdout", "write-tracer --resolve-fds → stdout (/dev/null)", tracer_args=RESOLVE_FDS)]
              if self.resolve_fds and scenario == "w1" else []),
            *([Setup("wt-stdout", "write-tracer --syscalls all → stdout (/dev/null)", tracer_args=SYSCALLS_ALL)]
              if self.syscalls and scenario == "w1" else []),
            Setup("wt-file", "write-tracer → rotating file (-q -o FILE -n 1000000)"),
            *([Setup("wt-stdout", "write-tracer --attach fentry → stdout (/dev/null)", tracer_args=FENTRY)]
              if self.fentry else []),
            Setup("none", "no tracer", divisor=20),
            Setup("strace", "strace -f -e trace=write -o FILE", divisor=20),
            Setup("bpftrace", "bpftrace one-liner (pid filter)"),
        ]

    def writev_setups(self) -> list[Setup]:
        """W1v, where the binary has --syscalls; write stays traced for the writer's last line (a write)."""
        if not self.syscalls:
            return []
        return [Setup("none", "no tracer"),
                Setup("wt-stdout", "write-tracer --syscalls all → stdout (/dev/null)", tracer_args=SYSCALLS_ALL),
                Setup("wt-stdout", "write-tracer --syscalls write,writev → stdout (/dev/null)",
                      tracer_args=("--syscalls", "write,writev"))]

    def fork_setups(self) -> list[Setup]:
        return [Setup("none", "no tracer"), Setup("wt-stdout", "write-tracer → stdout (counted)"),
                Setup("strace", "strace -f"), Setup("bpftrace", "bpftrace one-liner (pid filter)")]

    def untracked_setups(self) -> list[Setup]:
        return [Setup("none", "no tracer"), Setup("wt-other", "write-tracer tracking another (idle) process"),
                *([Setup("wt-other", "write-tracer --attach fentry tracking another (idle) process",
                         tracer_args=FENTRY)] if self.fentry else []),
                Setup("wt-daemon", "write-tracer daemon tracking nothing (--rest-port)"),
                Setup("bpftrace-other", "bpftrace one-liner filtering another pid")]

    def run(self) -> None:
        plan = [("w1", self.w1, self.traced_setups("w1")), ("w1v", self.w1v, self.writev_setups()),
                ("w2", self.w2, self.traced_setups("w2")),
                ("fork", self.fork, self.fork_setups()), ("untracked", self.w1, self.untracked_setups())]
        for rep in range(self.runs):
            for scenario, workload, setups in plan:
                if scenario not in self.only:
                    continue
                for setup in setups:
                    record = self.measure(rep, scenario, scaled(workload, setup.divisor), setup)
                    self.records.append(record)
                    progress(record)

    def measure(self, rep: int, scenario: str, workload: Workload, setup: Setup) -> dict:
        record = {"rep": rep, "scenario": scenario, "title": workload.title, "setup": setup.key,
                  "label": setup.label, "data_writes": workload.data_writes,
                  "traced_writes": workload.traced_writes, "processes": workload.processes}
        if setup.key == "wt-file" and not self.file_output:
            return record | {"na": "n/a (needs the sinks)"}
        if setup.key == "wt-daemon" and not self.daemon:
            return record | {"na": "n/a (needs --rest-port)"}
        fresh_dir(WORK_DIR)
        os.sync()  # the previous run's file data is not written back during this one
        foreign = self.wait_for_quiet_write_path()
        idle = subprocess.Popen(["sleep", "3600"]) if setup.key.endswith("-other") else None
        writer = HeldWriter(WRITER, list(workload.args), os.path.join(WORK_DIR, "writer.log"))
        tracer = None
        try:
            tracer = self.start_tracer(setup, writer.pid, idle.pid if idle else None, scenario)
            run = writer.run(WRITER_GUARD_S)
            record.update(elapsed_s=run.elapsed_s, writer_exit=run.exit_code, writer_cpu_s=run.cpu_s,
                          ns_per_write=run.elapsed_s * 1e9 / workload.data_writes)
            if run.exit_code != 0:
                record["error"] = f"writer exited with {run.exit_code}"
            if tracer is not None:
                record.update(self.stop_and_count(tracer, setup.key, workload))
        except BenchError as e:
            record["error"] = str(e)
        finally:
            writer.abort()
            if tracer is not None:
                tracer.kill()
            if idle is not None:
                idle.kill()
                reap(idle, 10)
        foreign += [line for line in self.other_tracers() if line not in foreign]
        if foreign:
            record["foreign"] = foreign
        return record

    def start_tracer(self, setup: Setup, writer_pid: int, idle_pid: int | None, scenario: str):
        key = setup.key
        events = os.path.join(WORK_DIR, "events")
        # -p mode ends at the first reconciliation after the writer exits.
        common = ["-i", "1", *setup.tracer_args]
        if key == "none":
            return None
        if key == "wt-stdout":
            # Where there are few events, stdout goes to a file so that they can be counted.
            counted = scenario == "fork"
            return WriteTracer(TRACER, [*common, "-p", str(writer_pid)],
                               stdout_path=events if counted else None)
        if key == "wt-file":
            return WriteTracer(TRACER, [*common, "-q", "-o", events, "-n", "1000000", "-p", str(writer_pid)],
                               event_files=events)
        if key == "wt-other":
            return WriteTracer(TRACER, [*common, "-q", "-p", str(idle_pid)])
        if key == "wt-daemon":
            return WriteTracer(TRACER, [*setup.tracer_args, "-q", "--rest-port", str(free_port())])
        if key == "strace":
            return Strace(writer_pid, events)
        if key == "bpftrace":
            return Bpftrace(writer_pid, events)
        if key == "bpftrace-other":
            return Bpftrace(idle_pid, events)
        raise ValueError(key)

    def stop_and_count(self, tracer, key: str, workload: Workload) -> dict:
        if isinstance(tracer, Bpftrace):
            usage = tracer.drain_and_stop()
        elif key in ("wt-other", "wt-daemon"):
            usage = tracer.finish(signal.SIGTERM)
        else:
            usage = tracer.finish(None)  # write-tracer -p and strace end with their tracee
        result = {"tracer_exit": usage.exit_code, "tracer_cpu_s": usage.cpu_s,
                  "startup_cpu_s": usage.startup_cpu_s, "max_rss_kib": usage.max_rss_kib,
                  "ready_s": usage.ready_s}
        if usage.escalated:
            result["note"] = usage.escalated
        elif usage.exit_code != 0:
            result["error"] = f"tracer exited with {usage.exit_code}: {last_line(usage.stderr)}"
        if key.endswith("-other") or key == "wt-daemon":
            return result
        if isinstance(tracer, WriteTracer):
            return result | self.write_tracer_counts(tracer, usage.stderr, workload)
        result["data_events"] = tracer.data_events(DATA_FD)
        result["completeness"] = result["data_events"] / workload.data_writes
        if workload.processes > 1:
            result["pids"] = len(tracer.writing_pids(DATA_FD))
        if isinstance(tracer, Bpftrace):
            result["reported_lost"] = tracer.reported_lost(usage.stderr)
        return result

    def write_tracer_counts(self, tracer: WriteTracer, stderr: str, workload: Workload) -> dict:
        summary = Summary.parse(stderr)
        if summary is None:
            return {"error": "no exit summary line in write-tracer's log", "completeness": 0.0}
        result = {"captured": summary.captured, "drops": summary.drops}
        outputs = tracer.outputs()
        if outputs:
            delivered = {tracer.stage: count_occurrences(outputs, b"\n")}
            result["data_events"] = tracer.data_events(DATA_FD)
            result["completeness"] = result["data_events"] / workload.data_writes
            if workload.processes > 1:
                result["pids"] = len(tracer.writing_pids(DATA_FD))
        else:
            # stdout went to /dev/null: what reached it is what its sink did not count as dropped.
            delivered = {}
            reached = summary.captured - summary.drops.get(tracer.stage, 0)
            result["completeness"] = reached / workload.traced_writes
            result["counted_by"] = "counters"
        result["accounting"] = asdict(account(workload.traced_writes, summary, delivered))
        return result

    # ---- the table ----------------------------------------------------------------------

    def finish(self, pipeline_results: dict | None) -> None:
        saved = {"machine": describe_machine(), "runs": self.runs, "quick": self.quick,
                 "records": self.records, "pipeline": pipeline_results}
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        os.makedirs(OUT_DIR, exist_ok=True)
        raw_path = os.path.join(OUT_DIR, f"results-{stamp}.json")
        with open(raw_path, "w") as f:
            json.dump(saved, f, indent=1)
        text = report.document(saved)
        with open(os.path.join(OUT_DIR, f"results-{stamp}.md"), "w") as f:
            f.write(text + "\n")
        print()
        print(text)
        print(f"\nraw results: {os.path.relpath(raw_path, ROOT)} "
              f"(python3 {os.path.relpath(__file__, ROOT)} --render FILE prints its table again)")


def yes(available: bool) -> str:
    return "yes" if available else "no"


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def rotated(path: str) -> list[str]:
    return sorted(glob.glob(glob.escape(path) + "*"))


def fresh_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def progress(record: dict) -> None:
    what = f"[run {record['rep'] + 1}] {record['scenario']:<9} {record['setup']:<14}"
    if "na" in record:
        print(f"{what} {record['na']}", flush=True)
        return
    parts = []
    if "ns_per_write" in record:
        parts.append(f"{record['ns_per_write']:8.0f} ns/write")
    if "data_events" in record:
        parts.append(f"{record['data_events']:,}/{record['data_writes']:,} events")
    elif "completeness" in record:
        parts.append(f"{record['completeness']:.2%} (counters)")
    if "captured" in record:
        parts.append(f"captured {record['captured']:,}, drops {record['drops']}")
    if "error" in record:
        parts.append(f"ERROR {record['error']}")
    if "foreign" in record:
        parts.append("another tracer was on the write path")
    print(f"{what} {'; '.join(parts)}", flush=True)


def describe_machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "kernel": os.uname().release,
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "strace": version(["strace", "-V"]),
        "bpftrace": version(["bpftrace", "--version"]),
        "commit": commit.stdout.strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"


def main() -> int:
    if sys.argv[1:2] == ["--render"] and len(sys.argv) == 3:
        with open(sys.argv[2]) as f:
            print(report.document(json.load(f)))
        return 0
    if os.geteuid() != 0:
        print("bench: needs root (BPF, strace -p)", file=sys.stderr)
        return 1
    for path in (TRACER, WRITER):
        if not os.access(path, os.X_OK):
            print(f"bench: {os.path.relpath(path, ROOT)} is missing: run make build", file=sys.stderr)
            return 1
    quick = os.environ.get("BENCH_QUICK") == "1"
    runs = int(os.environ.get("BENCH_RUNS") or (1 if quick else 5))
    scenarios = {"w1", "w1v", "w2", "fork", "untracked", "pipeline"}
    only = set(filter(None, os.environ.get("BENCH_ONLY", ",".join(scenarios)).split(",")))
    if runs < 1 or not only <= scenarios:
        print(f"bench: BENCH_RUNS must be ≥ 1 and BENCH_ONLY a subset of {','.join(sorted(scenarios))}", file=sys.stderr)
        return 2
    bench = Bench(quick, runs, only)
    try:
        bench.probe_features()
        print(f"bench: {runs} repetition(s){' (quick)' if quick else ''}; file sink: {yes(bench.file_output)}; "
              f"daemon mode: {yes(bench.daemon)}; --attach fentry: {yes(bench.fentry)}; "
              f"--resolve-fds: {yes(bench.resolve_fds)}", flush=True)
        bench.run()
        pipeline_results = pipeline.run(ROOT, os.path.join(OUT_DIR, "pipeline"), quick) if "pipeline" in only else None
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(WORK_DIR, ignore_errors=True)
    bench.finish(pipeline_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
