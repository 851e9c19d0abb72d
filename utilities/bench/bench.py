#!/usr/bin/env python3
"""`make bench`: write-tracer against no tracer, strace and bpftrace on the same workloads,
in one run, repeated; prints one Markdown table (medians; every ratio against a baseline
measured in the same repetition) and keeps the raw results under build/bench/.

With BENCH_AGAINST=<git ref>, that ref is built in a git worktree under build/bench/ (removed
afterwards) and its write-tracer runs interleaved with the working tree's on the same workloads;
strace and bpftrace are left out, and the report adds the new/old ratios of the tracer's overhead
(traced − untraced ns per write, each against the baseline of its own repetition).

`bench.py --render results-….json` prints the report of a saved run again.
Environment: BENCH_RUNS (repetitions, default 5), BENCH_QUICK=1 (smaller workloads, one
repetition, a shorter pipeline benchmark), BENCH_ONLY=w1,w1v,w2,w3,fork,untracked,getppid,registry,pipeline,
BENCH_AGAINST=REF, BENCH_ARGS / BENCH_AGAINST_ARGS (extra write-tracer options for the working
tree's / the ref's binary, e.g. BENCH_AGAINST=HEAD BENCH_ARGS="--attach raw" compares two hooks)."""

from __future__ import annotations

import contextlib
import datetime
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import against
import pipeline
import registry
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
HOOKS = ("tracepoint", "raw", "fentry")  # each measured beside the binary's default attach point where it has it
RESOLVE_FDS = ("--resolve-fds",)  # fd_path on every event: the kernel's identity read, then a cache hit per event
SYSCALLS_ALL = ("--syscalls", "all")  # the whole write family: five tracepoints instead of one
W1V_IOVECS = 4  # W1's 64 bytes as one writev(2) of this many buffers
REGISTRY_SIZES = (1_000, 4_000, 16_000)  # sleeping children under the registered root
REGISTRY_WINDOW_S = 15  # the idle window whose CPU is measured (5 s with BENCH_QUICK)
REGISTRY_TITLE = "Registry: N sleeping children under one root, registered through the REST API"


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
    candidate: str = "new"  # which write-tracer binary (Candidate.key)


@dataclass
class Candidate:
    """A write-tracer binary under test: the working tree's ("new") or BENCH_AGAINST's ("old"),
    with the options BENCH_ARGS / BENCH_AGAINST_ARGS add to every run of it."""
    key: str
    name: str
    binary: str
    args: tuple[str, ...] = ()
    help_text: str = ""
    file_output: bool = False

    def has(self, option: str) -> bool:
        return option in self.help_text

    def has_attach(self, hook: str) -> bool:
        """--attach HOOK is a choice of this binary: its --help lists them as "--attach <a|b>"."""
        choices = re.search(r"--attach <([a-z|]+)>", self.help_text)
        return choices is not None and hook in choices.group(1).split("|")

    @property
    def default_attach(self) -> str | None:
        """The hook this binary attaches without --attach: its --help says "[default: HOOK]" on that line."""
        line = re.search(r"--attach <[a-z|]+>.*", self.help_text)
        default = line and re.search(r"\[default: ([a-z]+)\]", line.group(0))
        return default.group(1) if default else None

    @property
    def described(self) -> str:
        return self.name + (f" {' '.join(self.args)}" if self.args else "")


def quiet_loop(key: str, title: str, writes: int, size: int, path: str, *extra: str) -> Workload:
    return Workload(key, title, ("-q", str(writes), "-s", str(size), *extra, "-o", path), writes, 1)


def threaded_loop(key: str, title: str, threads: int, writes: int, size: int, path: str) -> Workload:
    return Workload(key, title, ("-t", str(threads), "-q", str(writes), "-s", str(size), "-o", path),
                    threads * writes, 1)


def getppid_loop(calls: int) -> Workload:
    """No writes: data_writes counts the getppid(2) calls, which ns_per_write divides by."""
    return Workload("getppid", f"getppid loop: {calls:,} getppid(2) calls by a process nobody tracks",
                    ("-G", str(calls)), calls, 1)


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
    def __init__(self, quick: bool, runs: int, only: set[str], candidates: list[Candidate]):
        self.quick = quick
        self.runs = runs
        self.only = only
        w1_writes, w2_writes, w3_writes, getppids, children = (
            (200_000, 20_000, 100_000, 500_000, 100) if quick else (2_000_000, 200_000, 1_000_000, 5_000_000, 500))
        self.w1 = quiet_loop("w1", f"W1: {w1_writes:,} × 64 B to /dev/null, one thread", w1_writes, 64, "/dev/null")
        self.w1v = quiet_loop("w1v", f"W1v: {w1_writes:,} × 64 B to /dev/null, each a writev of {W1V_IOVECS} buffers, one thread",
                              w1_writes, 64, "/dev/null", "-v", str(W1V_IOVECS))
        self.w2 = quiet_loop("w2", f"W2: {w2_writes:,} × 4 KiB to a file", w2_writes, 4096,
                             os.path.join(WORK_DIR, "w2.data"))
        self.w3 = threaded_loop("w3", f"W3: 2 threads × {w3_writes:,} × 64 B to /dev/null", 2, w3_writes, 64,
                                "/dev/null")
        self.fork = fork_workload(children)
        self.getppid = getppid_loop(getppids)
        self.candidates = {c.key: c for c in candidates}
        self.ab = "old" in self.candidates
        self.records: list[dict] = []
        self.quiet_budget_s = QUIET_WAIT_BUDGET_S / (5 if quick else 1)

    # ---- set-up -------------------------------------------------------------------------

    def probe_features(self) -> None:
        for candidate in self.candidates.values():
            self.probe(candidate)

    def probe(self, candidate: Candidate) -> None:
        """Options arrive on branches and differ between refs: use what each binary really
        has (an option that parses is not enough for the file sink: try it, with the
        candidate's own extra options, which a bad BENCH_ARGS then fails here)."""
        candidate.help_text = subprocess.run([candidate.binary, "--help"], capture_output=True, text=True).stdout
        if candidate.has("--file-output"):
            fresh_dir(WORK_DIR)
            probe = os.path.join(WORK_DIR, "probe.jsonl")
            done = subprocess.run([candidate.binary, "--metrics-port", "0", *candidate.args, "-q", "-o", probe, "--",
                                   WRITER, "-n", "1", "-o", "/dev/null"],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise BenchError(f"write-tracer ({candidate.described}) failed its start-up probe:\n"
                                 f"{done.stderr[-2000:]}")
            candidate.file_output = count_occurrences(rotated(probe), b'"fd":%d,' % DATA_FD) == 1

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

    def write_tracer(self, key: str, label: str, tracer_args: tuple[str, ...] = ()) -> list[Setup]:
        """The setup once per binary under test: in an A/B run the two run back to back."""
        return [Setup(key, label, tracer_args=tracer_args, candidate=c) for c in self.candidates]

    def other_hooks(self, key: str, label: str, tracer_args: tuple[str, ...] = ()) -> list[Setup]:
        """The setup with each other attach point the working tree's binary has; not in an A/B
        run, where BENCH_ARGS / BENCH_AGAINST_ARGS choose the hooks."""
        if self.ab:
            return []
        new = self.candidates["new"]
        return [Setup(key, label.replace("write-tracer", f"write-tracer --attach {hook}", 1),
                      tracer_args=("--attach", hook, *tracer_args))
                for hook in HOOKS if new.has_attach(hook) and hook != new.default_attach]

    def comparisons(self, setups: list[Setup]) -> list[Setup]:
        """strace and bpftrace: left out of A/B runs, which compare write-tracer with itself."""
        return [] if self.ab else setups

    def traced_setups(self, scenario: str) -> list[Setup]:
        stdout = "write-tracer → stdout (/dev/null)"
        resolve = self.candidates["new"].has("--resolve-fds") and scenario == "w1" and not self.ab
        return [
            Setup("none", "no tracer"),
            *self.write_tracer("wt-stdout", stdout),
            *([Setup("wt-stdout", "write-tracer --resolve-fds → stdout (/dev/null)", tracer_args=RESOLVE_FDS)]
              if resolve else []),
            *([Setup("wt-stdout", "write-tracer --syscalls all → stdout (/dev/null)", tracer_args=SYSCALLS_ALL)]
              if self.candidates["new"].has("--syscalls") and scenario == "w1" and not self.ab else []),
            *self.write_tracer("wt-file", "write-tracer → rotating file (-q -o FILE -n 1000000)"),
            *self.other_hooks("wt-stdout", stdout),
            *self.comparisons([] if scenario == "w3" else [
                Setup("none", "no tracer", divisor=20),
                Setup("strace", "strace -f -e trace=write -o FILE", divisor=20),
                Setup("bpftrace", "bpftrace one-liner (pid filter)")]),
        ]

    def writev_setups(self) -> list[Setup]:
        """W1v, where the binaries have --syscalls; write stays traced for the writer's last line (a write)."""
        if not all(c.has("--syscalls") for c in self.candidates.values()):
            return []
        every = "write-tracer --syscalls all → stdout (/dev/null)"
        return [Setup("none", "no tracer"), *self.write_tracer("wt-stdout", every, SYSCALLS_ALL),
                *self.other_hooks("wt-stdout", every, SYSCALLS_ALL),
                *self.write_tracer("wt-stdout", "write-tracer --syscalls write,writev → stdout (/dev/null)",
                                   ("--syscalls", "write,writev"))]

    def fork_setups(self) -> list[Setup]:
        return [Setup("none", "no tracer"), *self.write_tracer("wt-stdout", "write-tracer → stdout (counted)"),
                *self.comparisons([Setup("strace", "strace -f"),
                                   Setup("bpftrace", "bpftrace one-liner (pid filter)")])]

    def untracked_setups(self) -> list[Setup]:
        other = "write-tracer tracking another (idle) process"
        return [Setup("none", "no tracer"), *self.write_tracer("wt-other", other),
                *self.other_hooks("wt-other", other),
                *self.write_tracer("wt-daemon", "write-tracer daemon tracking nothing (--rest-port)"),
                *self.comparisons([Setup("bpftrace-other", "bpftrace one-liner filtering another pid")])]

    def getppid_setups(self) -> list[Setup]:
        other = "write-tracer tracking another (idle) process"
        return [Setup("none", "no tracer"), *self.write_tracer("wt-other", other),
                *self.other_hooks("wt-other", other),
                *self.comparisons([Setup("bpftrace-other", "bpftrace one-liner on sys_enter_write filtering another pid")])]

    def registry_setups(self) -> list[Setup]:
        """Each binary at its default tracking interval (the targets), and walking /proc every second."""
        return [*self.write_tracer("wt-registry", "write-tracer --rest-port, default --tracking-interval"),
                *self.write_tracer("wt-registry", "write-tracer --rest-port -i 1 (a /proc walk every second)", ("-i", "1"))]

    def run_registry(self, rep: int) -> None:
        """One tree per size, shared by every setup of the repetition (spawning 16,000 takes a while)."""
        window = REGISTRY_WINDOW_S / (3 if self.quick else 1)
        for children in REGISTRY_SIZES:
            tree = registry.SleeperTree(children)
            try:
                setups = self.registry_setups()
                for setup in setups if rep % 2 == 0 else reversed(setups):
                    record = {"rep": rep, "scenario": "registry", "title": REGISTRY_TITLE, "setup": setup.key,
                              "label": self.label(setup), "variant": setup.label, "data_writes": children,
                              "traced_writes": 0, "processes": children + 1, "candidate": setup.candidate}
                    candidate = self.candidates[setup.candidate]
                    try:
                        record.update(registry.measure(candidate.binary, (*candidate.args, *setup.tracer_args), tree,
                                                       free_port(), window))
                    except BenchError as e:
                        record["error"] = str(e)
                    self.records.append(record)
                    progress(record)
            finally:
                tree.kill()

    def run(self) -> None:
        plan = [("w1", self.w1, self.traced_setups("w1")), ("w1v", self.w1v, self.writev_setups()),
                ("w2", self.w2, self.traced_setups("w2")), ("w3", self.w3, self.traced_setups("w3")),
                ("fork", self.fork, self.fork_setups()), ("untracked", self.w1, self.untracked_setups()),
                ("getppid", self.getppid, self.getppid_setups())]
        for rep in range(self.runs):
            for scenario, workload, setups in plan:
                if scenario not in self.only:
                    continue
                # Every other repetition runs the setups in reverse, so a drift of the machine
                # during a repetition does not always favour the same setup (new before old).
                for setup in setups if rep % 2 == 0 else reversed(setups):
                    record = self.measure(rep, scenario, scaled(workload, setup.divisor), setup)
                    self.records.append(record)
                    progress(record)
            if "registry" in self.only:
                self.run_registry(rep)

    def label(self, setup: Setup) -> str:
        if self.ab and setup.key.startswith("wt-"):
            return f"{setup.label} [{setup.candidate}: {self.candidates[setup.candidate].described}]"
        return setup.label

    def measure(self, rep: int, scenario: str, workload: Workload, setup: Setup) -> dict:
        candidate = self.candidates[setup.candidate]
        record = {"rep": rep, "scenario": scenario, "title": workload.title, "setup": setup.key,
                  "label": self.label(setup), "variant": setup.label, "data_writes": workload.data_writes,
                  "traced_writes": workload.traced_writes, "processes": workload.processes}
        if setup.key.startswith("wt-"):
            record["candidate"] = setup.candidate
        if setup.key == "wt-file" and not candidate.file_output:
            return record | {"na": "n/a (needs the sinks)"}
        if setup.key == "wt-daemon" and not candidate.has("--rest-port"):
            return record | {"na": "n/a (needs --rest-port)"}
        fresh_dir(WORK_DIR)
        os.sync()  # the previous run's file data is not written back during this one
        foreign = self.wait_for_quiet_write_path()
        idle = subprocess.Popen(["sleep", "3600"]) if setup.key.endswith("-other") else None
        writer = HeldWriter(WRITER, list(workload.args), os.path.join(WORK_DIR, "writer.log"))
        tracer = None
        try:
            tracer = self.start_tracer(setup, candidate, writer.pid, idle.pid if idle else None, scenario)
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

    def start_tracer(self, setup: Setup, candidate: Candidate, writer_pid: int, idle_pid: int | None,
                     scenario: str):
        key = setup.key
        events = os.path.join(WORK_DIR, "events")
        options = [*candidate.args, *setup.tracer_args]
        # -p mode ends at the first reconciliation after the writer exits.
        common = ["-i", "1", *options]
        if key == "none":
            return None
        if key == "wt-stdout":
            # Where there are few events, stdout goes to a file so that they can be counted.
            counted = scenario == "fork"
            return WriteTracer(candidate.binary, [*common, "-p", str(writer_pid)],
                               stdout_path=events if counted else None)
        if key == "wt-file":
            return WriteTracer(candidate.binary, [*common, "-q", "-o", events, "-n", "1000000", "-p", str(writer_pid)],
                               event_files=events)
        if key == "wt-other":
            return WriteTracer(candidate.binary, [*common, "-q", "-p", str(idle_pid)])
        if key == "wt-daemon":
            return WriteTracer(candidate.binary, [*options, "-q", "--rest-port", str(free_port())])
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
                 "candidates": {key: c.described for key, c in self.candidates.items()},
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
    what = f"[run {record['rep'] + 1}] {record['scenario']:<9} {record['setup']:<14} {record.get('candidate', ''):<3}"
    if "na" in record:
        print(f"{what} {record['na']}", flush=True)
        return
    parts = []
    if "register_ms" in record:
        parts.append(f"N={record['data_writes']:,}: POST {record['register_ms']:.0f} ms")
    if "delete_ms" in record:
        parts.append(f"DELETE {record['delete_ms']:.0f} ms, idle CPU {record['idle_cpu_pct']:.2f}%, "
                     f"{record['rss_per_process_b']:.0f} B/process")
    if "ns_per_write" in record:
        parts.append(f"{record['ns_per_write']:8.0f} ns/{'call' if record['scenario'] == 'getppid' else 'write'}")
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
    return {
        "nproc": os.cpu_count(),
        "kernel": os.uname().release,
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "strace": version(["strace", "-V"]),
        "bpftrace": version(["bpftrace", "--version"]),
        "commit": working_tree_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def working_tree_commit() -> str:
    done = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return done.stdout.strip()


def version(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return f"{argv[0]} not installed"  # an A/B run needs neither strace nor bpftrace
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
    against_ref = os.environ.get("BENCH_AGAINST", "").strip()
    scenarios = {"w1", "w1v", "w2", "w3", "fork", "untracked", "getppid", "registry", "pipeline"}
    # The pipeline benchmark is the working tree's user space alone: nothing to compare in an A/B run.
    default_only = scenarios - {"pipeline"} if against_ref else scenarios
    only = set(filter(None, os.environ.get("BENCH_ONLY", ",".join(default_only)).split(",")))
    if runs < 1 or not only <= scenarios:
        print(f"bench: BENCH_RUNS must be ≥ 1 and BENCH_ONLY a subset of {','.join(sorted(scenarios))}", file=sys.stderr)
        return 2
    try:
        new_args = tuple(shlex.split(os.environ.get("BENCH_ARGS", "")))
        old_args = tuple(shlex.split(os.environ.get("BENCH_AGAINST_ARGS", "")))
    except ValueError as e:
        print(f"bench: BENCH_ARGS / BENCH_AGAINST_ARGS: {e}", file=sys.stderr)
        return 2
    if old_args and not against_ref:
        print("bench: BENCH_AGAINST_ARGS needs BENCH_AGAINST", file=sys.stderr)
        return 2
    try:
        with contextlib.ExitStack() as stack:
            candidates = [Candidate("new", f"working tree ({working_tree_commit()})", TRACER, new_args)]
            if against_ref:
                built = stack.enter_context(against.built(ROOT, against_ref, OUT_DIR))
                candidates.append(Candidate("old", built.name, built.binary, old_args))
            bench = Bench(quick, runs, only, candidates)
            bench.probe_features()
            print(f"bench: {runs} repetition(s){' (quick)' if quick else ''}", flush=True)
            for c in candidates:
                print(f"bench: {c.key} = {c.described}: file sink: {yes(c.file_output)}; "
                      f"daemon mode: {yes(c.has('--rest-port'))}; --attach raw: {yes(c.has_attach('raw'))}; "
                      f"--attach fentry: {yes(c.has_attach('fentry'))}; --resolve-fds: {yes(c.has('--resolve-fds'))}",
                      flush=True)
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
