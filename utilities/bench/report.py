"""Turns the records of a benchmark run into one Markdown table: medians over the
repetitions, each ratio taken against the baseline of its own repetition, and the
targets of issues 5 and 17 beside the measured figures. An A/B run (BENCH_AGAINST) adds a
second table: the new/old ratios of the tracer's overhead."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

MIB = 1024


@dataclass
class Row:
    scenario: str
    setup: str
    measured: str
    ratio: str = "—"
    captured: str = "—"
    accounting: str = "—"
    target: str = ""


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_write(ns: float, unit: str = "write") -> str:
    return f"{ns / 1000:.2f} µs/{unit}" if ns >= 1000 else f"{ns:.0f} ns/{unit}"


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def percent(fraction: float) -> str:
    return "100%" if fraction == 1 else f"{fraction:.2%}"


class Group:
    """The repetitions of one setup on one workload."""

    def __init__(self, records: list[dict], baselines: dict):
        self.records = records
        self.first = records[0]
        measured = [r for r in records if "error" not in r and "na" not in r]
        pairs = [(r, baselines.get((r["scenario"], r["data_writes"], r["rep"]))) for r in measured]
        pairs = [(r, base) for r, base in pairs if base is not None]
        # Runs during which another tracer was on the write path count only when no other run exists.
        clean = [r for r in measured if "foreign" not in r]
        clean_pairs = [(r, base) for r, base in pairs if "foreign" not in r and "foreign" not in base]
        self.distorted = bool(measured) and not clean
        self.ok = clean or measured
        self.ratio_distorted = bool(pairs) and not clean_pairs
        self.ratios = [r["ns_per_write"] / base["ns_per_write"] for r, base in (clean_pairs or pairs)]

    def value(self, key: str) -> float | None:
        return median([r.get(key) for r in self.ok])

    @property
    def ratio(self) -> float | None:
        return median(self.ratios)

    def ratio_text(self) -> str:
        if self.first["setup"] == "none":
            return "1.00× (baseline)"
        if self.ratio is None:
            return "—"
        return f"{self.ratio:.2f}×" + (" †" if self.ratio_distorted else "")

    def completeness(self) -> tuple[float, float] | None:
        values = [r["completeness"] for r in self.ok if "completeness" in r]
        return (statistics.median(values), min(values)) if values else None

    def completeness_text(self) -> str:
        found = self.completeness()
        if found is None:
            return "—"
        mid, low = found
        text = percent(mid) + (f" (min {percent(low)})" if low != mid else "")
        if any(r.get("counted_by") == "counters" for r in self.ok):
            text += " ¹"
        pids = [r["pids"] for r in self.ok if "pids" in r]
        if pids:
            text += f"; {min(pids)}/{self.first['processes']} processes"
        return text

    def drops(self) -> dict[str, int]:
        """Largest drop count per stage over the repetitions."""
        worst: dict[str, int] = {}
        for r in self.ok:
            for stage, n in r.get("drops", {}).items():
                worst[stage] = max(worst.get(stage, 0), n)
        return worst

    def accounting_text(self) -> str:
        checked = [r["accounting"] for r in self.ok if "accounting" in r]
        if checked:
            drops = ", ".join(f"{stage} {n:,}" for stage, n in self.drops().items())
            exact = sum(1 for a in checked if a["exact"])
            return f"exact in {exact}/{len(checked)} runs; max drops: {drops}"
        lost = [r["reported_lost"] for r in self.ok if "reported_lost" in r]
        if lost:
            return f"reports {median(lost):,.0f} lost (median)"
        return "—"

    def marks(self) -> str:
        return (" †" if self.distorted else "") + self.errors()

    def errors(self) -> str:
        failed = [r for r in self.records if "error" in r]
        if not failed:
            return ""
        first = failed[0]["error"].strip().splitlines()[0][:160]
        return f" — {len(failed)} run(s) failed: {first}"

    def cpu_per_million(self, after_startup: bool = False) -> float | None:
        values = []
        for r in self.ok:
            events = r.get("captured", r.get("data_events"))
            cpu = r.get("tracer_cpu_s")
            if not events or cpu is None:
                continue
            if after_startup:
                if r.get("startup_cpu_s") is None:
                    continue
                cpu -= r["startup_cpu_s"]
            values.append(cpu / events * 1e6)
        return median(values)


def baselines_of(records: list[dict]) -> dict:
    """The no-tracer run of each scenario, workload size and repetition."""
    return {(r["scenario"], r["data_writes"], r["rep"]): r
            for r in records if r["setup"] == "none" and "ns_per_write" in r and "error" not in r}


def group_records(records: list[dict]) -> list[Group]:
    baselines = baselines_of(records)
    keyed: dict[tuple, list[dict]] = {}
    for r in records:
        keyed.setdefault((r["scenario"], r["label"], r["data_writes"]), []).append(r)
    return [Group(rs, baselines) for rs in keyed.values()]


def slowdown_target(g: Group, limit: float, whole: bool) -> str:
    """Slowdown at most `limit`; with `whole`, also 100% captured and no drop anywhere."""
    text = f"≤ {limit:g}×" + (", 100%, no drops" if whole else "")
    if g.ratio is None:
        return text
    met = g.ratio <= limit
    if whole:
        found = g.completeness()
        met = met and found is not None and found[1] == 1 and not any(g.drops().values())
    return f"{text}: {verdict(met)}"


def traced_rows(groups: list[Group], scenario: str) -> list[Row]:
    rows = []
    for g in (g for g in groups if g.first["scenario"] == scenario):
        title = g.first["title"]
        setup = g.first["label"]
        if g.first["data_writes"] != groups_max_writes(groups, scenario):
            setup += f" ({g.first['data_writes']:,} writes)"
        if "na" in g.first:
            rows.append(Row(title, setup, g.first["na"]))
            continue
        if not g.ok:
            rows.append(Row(title, setup, "failed" + g.errors()))
            continue
        if scenario == "fork":
            measured = f"{duration(g.value('elapsed_s'))} in all"
        else:
            measured = per_write(g.value("ns_per_write"))
        target = ""
        if g.first["setup"].startswith("wt-"):
            if scenario == "w1":
                target = slowdown_target(g, 2.5, whole=True)
            elif scenario == "w2":
                target = slowdown_target(g, 1.05, whole=False)
            elif scenario == "w3":
                found = g.completeness()
                checked = [r["accounting"]["exact"] for r in g.ok if "accounting" in r]
                met = found is not None and found[1] == 1 and checked and all(checked)
                target = f"100%, exact accounting: {verdict(bool(met))}"
            elif scenario == "fork":
                found = g.completeness()
                pids = [r["pids"] for r in g.ok if "pids" in r]
                met = found is not None and found[1] == 1 and pids and min(pids) == g.first["processes"]
                target = f"100%, grandchildren included: {verdict(bool(met))}"
        rows.append(Row(title, setup, measured + g.marks(), g.ratio_text(), g.completeness_text(),
                        g.accounting_text(), target))
    return rows


def groups_max_writes(groups: list[Group], scenario: str) -> int:
    return max(g.first["data_writes"] for g in groups if g.first["scenario"] == scenario)


def untracked_rows(groups: list[Group], scenario: str, title: str, unit: str, limit: float) -> list[Row]:
    """A process nobody tracks, with a tracer attached for another: `limit` is the target for
    the tracer tracking another process."""
    rows = []
    for g in (g for g in groups if g.first["scenario"] == scenario):
        setup = g.first["label"]
        if "na" in g.first:
            rows.append(Row(title, setup, g.first["na"]))
            continue
        if not g.ok:
            rows.append(Row(title, setup, "failed" + g.errors()))
            continue
        target = ""
        if g.first["setup"] == "wt-other":
            target = slowdown_target(g, limit, whole=False)
        elif g.first["setup"] == "wt-daemon" and g.ratio is not None:
            target = f"costs nothing (≤ 1.05×, run-to-run noise): {verdict(g.ratio <= 1.05)}"
        rows.append(Row(title, setup, per_write(g.value("ns_per_write"), unit) + g.marks(), g.ratio_text(),
                        target=target))
    return rows


def resource_rows(groups: list[Group]) -> list[Row]:
    rows = []
    for g in (g for g in groups if g.first["scenario"] == "w1" and g.first["setup"] != "none" and g.ok):
        title = f"Tracer cost on W1: {g.first['label']}"
        cpu = g.cpu_per_million()
        rss = g.value("max_rss_kib")
        ready = g.value("ready_s")
        if g.first["setup"].startswith("wt-"):
            steady = g.cpu_per_million(after_startup=True)
            rows.append(Row(title, "CPU seconds per million events",
                            f"{cpu:.2f} s ({steady:.2f} s after start-up)",
                            target=f"≤ 0.5 s: {verdict(steady <= 0.5)}"))
            # Native AOT's targets (issue 12): the JIT build's were 60 MiB and none for the start.
            rows.append(Row(title, "peak RSS", f"{rss / MIB:.0f} MiB", target=f"≤ 55 MiB: {verdict(rss <= 55 * MIB)}"))
            rows.append(Row(title, "start → \"tracing\" log line", duration(ready), target=f"≤ 60 ms: {verdict(ready <= 0.060)}"))
        else:
            rows.append(Row(title, "CPU per million events, peak RSS, start → attached",
                            f"{cpu:.2f} s, {rss / MIB:.0f} MiB, {duration(ready)}"))
    return rows


# Targets of issue 13 for the registry (the default tracking interval): the 4,001-process tree's
# POST and DELETE, and at every N the idle CPU (so flat in N) and the memory per tracked process.
REGISTRY_TARGET_N = 4_000
REGISTRY_LIMITS = {"register_ms": 100, "delete_ms": 50, "idle_cpu_pct": 0.5, "rss_per_process_b": 2048}


def registry_rows(groups: list[Group]) -> list[Row]:
    rows = []
    for g in (g for g in groups if g.first["scenario"] == "registry"):
        children = g.first["data_writes"]
        setup = f"{g.first['label']}, N = {children:,}"
        if not g.ok:
            rows.append(Row(g.first["title"], setup, "failed" + g.errors()))
            continue
        figures = {key: g.value(key) for key in REGISTRY_LIMITS}
        measured = (f"POST {figures['register_ms']:.0f} ms, DELETE {figures['delete_ms']:.0f} ms; "
                    f"idle CPU {figures['idle_cpu_pct']:.2f}% of a core over {g.value('window_s'):.0f} s; "
                    f"{figures['rss_per_process_b']:,.0f} B RSS per tracked process" + g.errors())
        tracked = [r["tracked"] for r in g.ok if "tracked" in r]
        captured = f"{min(tracked):,}/{g.first['processes']:,} tracked" if tracked else "—"
        target = ""
        if "-i" not in g.first["variant"].split():
            keys = list(REGISTRY_LIMITS) if children == REGISTRY_TARGET_N else ["idle_cpu_pct", "rss_per_process_b"]
            met = all(figures[key] <= REGISTRY_LIMITS[key] for key in keys)
            target = ("POST ≤ 100 ms, DELETE ≤ 50 ms, " if children == REGISTRY_TARGET_N else "") + \
                f"CPU ≤ 0.5%, ≤ 2 KiB/process: {verdict(met)}"
        rows.append(Row(g.first["title"], setup, measured, captured=captured, target=target))
    return rows


PAYLOADS = {
    "Text64": ("64 B text (W1)", True),
    "Binary64": ("64 B binary (data_b64)", True),
    "Text4KiB": ("4 KiB text, 256 B captured (W2, default)", True),
    "Text4KiBAll": ("4 KiB text, all captured (--capture-bytes 4096)", False),
}


# The pipeline benchmark's jobs: the JIT, and native code as bin/write-tracer is compiled.
PIPELINE_JOBS = {"JIT": "JIT", "NativeAOT": "Native AOT"}


def pipeline_rows(results: dict) -> list[Row]:
    title = "User-space pipeline, replayed records (decode + JSON + batched write), one core"
    rows: list[Row] = []
    if not results:  # not run (BENCH_ONLY)
        return rows
    for (payload, (label, targeted)), (job, compiler) in itertools.product(PAYLOADS.items(), PIPELINE_JOBS.items()):
        found = results.get(job, {}).get(payload)
        if not found or "pipeline" not in found:
            rows.append(Row(title, f"{label}, {compiler}", "failed (see the benchmark's log)"))
            continue
        ns = found["pipeline"]["ns_per_event"]
        rate = 1e9 / ns
        alloc = found["pipeline"]["bytes_per_event"]
        ratio = f"{ns / found['raw copy']['ns_per_event']:.0f}× the raw copy" if "raw copy" in found else "—"
        check = found.get("check")
        accounting = "—"
        if check:
            lost = check["fed"] - check["delivered"]
            accounting = (f"{check['fed']:,} fed = delivered, 0 dropped" if lost == 0 and check["dropped"] == 0
                          else f"**{lost:,} not delivered, {check['dropped']:,} dropped**")
        target = f"≥ 2,000,000 events/s: {verdict(rate >= 2e6)}" if targeted else ""
        rows.append(Row(title, f"{label}, {compiler}", f"{rate / 1e6:.2f} M events/s ({ns:.0f} ns/event, {alloc:g} B/event allocated)",
                        ratio, "—", accounting, target))
    return rows


def document(saved: dict) -> str:
    """The whole report of a run from its raw results (as bench.py saves them)."""
    records = saved["records"]
    candidates = saved.get("candidates", {})
    ab = ab_table(records, candidates) if "old" in candidates else []
    return "\n".join([header(saved["machine"], saved["runs"], saved["quick"], records), "",
                      render(records, saved["pipeline"]), "", *ab, *loss_report(records)])


def render(records: list[dict], pipeline_results: dict | None) -> str:
    groups = group_records(records)
    rows = (traced_rows(groups, "w1") + traced_rows(groups, "w1v") + traced_rows(groups, "w2") + traced_rows(groups, "w3")
            + traced_rows(groups, "fork")
            + untracked_rows(groups, "untracked", "Untracked W1 while a tracer runs", "write", 1.3)
            + untracked_rows(groups, "getppid", getppid_title(groups), "call", 1.35)
            + registry_rows(groups) + resource_rows(groups) + pipeline_rows(pipeline_results or {}))
    lines = ["| Scenario | Setup | Measured (median) | vs baseline | Captured | Loss accounting | Target |",
             "|---|---|---|---|---|---|---|"]
    previous = None
    for row in rows:
        scenario = row.scenario if row.scenario != previous else ""
        previous = row.scenario
        cells = [scenario, row.setup, row.measured, row.ratio, row.captured, row.accounting, row.target]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("")
    lines.append("¹ stdout went to /dev/null: the share of writes its sink delivered, from write-tracer's counters "
                 "(captured − stdout drops); the file rows count the events in the files.")
    lines.append("† measured only in runs (of the row or of its baseline) with another BPF program on the write "
                 "path (see the warning above); elsewhere such runs are left out of the medians.")
    lines.append("strace rows run a twentieth of the writes (its per-write cost is constant) against a baseline "
                 "of the same size. The bpftrace one-liner filters on the writer's pid, so it misses children.")
    return "\n".join(lines)


def getppid_title(groups: list[Group]) -> str:
    found = next((g.first["title"] for g in groups if g.first["scenario"] == "getppid"), "getppid loop")
    return f"{found}, while a tracer runs"


# Targets of issue 17 for the overhead against the commit it started from.
AB_TARGETS = {("w1", "wt-stdout"): 0.65, ("untracked", "wt-other"): 0.5}


def ab_table(records: list[dict], candidates: dict[str, str]) -> list[str]:
    """new/old of the tracer's overhead (traced − untraced ns per write) for every setup both
    binaries ran: per repetition against that repetition's baseline, then the median. Runs with
    another tracer on the write path count only where no clean repetition exists (†)."""
    baselines = baselines_of(records)
    runs: dict[tuple, dict[int, dict[str, dict]]] = {}
    for r in records:
        if "candidate" in r and "ns_per_write" in r and "error" not in r:
            runs.setdefault((r["scenario"], r["variant"], r["setup"], r["data_writes"], r["title"]), {}) \
                .setdefault(r["rep"], {})[r["candidate"]] = r
    lines = [f"A/B: new = {candidates['new']}, old = {candidates['old']}; overhead = traced − untraced "
             "ns per write (per call for getppid), each against the no-tracer run of its own repetition.", "",
             "| Scenario | Setup | Overhead, new (median) | Overhead, old (median) | new/old overhead "
             "(median of per-repetition ratios) | Target (issue 17) |",
             "|---|---|---|---|---|---|"]
    previous = None
    for (scenario, variant, setup, writes, title), by_rep in runs.items():
        triples = [(base, pair["new"], pair["old"]) for rep, pair in sorted(by_rep.items())
                   if "new" in pair and "old" in pair
                   and (base := baselines.get((scenario, writes, rep))) is not None]
        if not triples:
            continue
        clean = [t for t in triples if not any("foreign" in r for r in t)]
        used = clean or triples
        overheads = [(new["ns_per_write"] - base["ns_per_write"], old["ns_per_write"] - base["ns_per_write"])
                     for base, new, old in used]
        # An old overhead within noise of zero makes the ratio meaningless.
        ratios = [new / old for new, old in overheads if old > 0]
        ratio = median(ratios)
        mark = " †" if not clean else ""
        unit = "call" if scenario == "getppid" else "write"
        target = AB_TARGETS.get((scenario, setup))
        target_text = "" if target is None else f"≤ {target:g}×" + (
            "" if ratio is None else f": {verdict(ratio <= target)}")
        cells = [title if title != previous else "", variant,
                 f"{median([n for n, _ in overheads]):.0f} ns/{unit}{mark}",
                 f"{median([o for _, o in overheads]):.0f} ns/{unit}{mark}",
                 "— (no overhead to compare)" if ratio is None else
                 f"{ratio:.2f}× ({len(ratios)} repetition(s)){mark}",
                 target_text]
        previous = title
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if len(lines) == 4:
        return []  # nothing both binaries ran has an overhead to compare (a registry-only run)
    lines.append("")
    return lines


def header(machine: dict, runs: int, quick: bool, records: list[dict]) -> str:
    lines = [f"write-tracer benchmarks ({machine['commit']}, {machine['date']}): {runs} repetition(s)"
             + (", QUICK (smaller workloads)" if quick else ""),
             f"machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB, "
             f"Linux {machine['kernel']}; {machine['strace']}; {machine['bpftrace']}"]
    measured = [r for r in records if "na" not in r]
    distorted = [r for r in measured if "foreign" in r]
    if distorted:
        seen = sorted({line for r in distorted for line in r["foreign"]})
        lines.append(f"WARNING: in {len(distorted)} of {len(measured)} runs another BPF program was on the write "
                     "path (every write on the host pays for it), so those figures are distorted:")
        lines.extend(f"  {line}" for line in seen[:10])
    return "\n".join(lines)


def loss_report(records: list[dict]) -> list[str]:
    """Every write-tracer run with events missing, and whether the counters explain them."""
    checked = [r for r in records if "accounting" in r]
    lines = []
    for r in checked:
        notes = r["accounting"]["notes"]
        if notes:
            state = "explained by the counters" if r["accounting"]["exact"] else "NOT EXPLAINED"
            lines.append(f"- {r['scenario']} {r['label']}, run {r['rep'] + 1}: {state}: " + "; ".join(notes))
    for r in records:
        if "note" in r:
            lines.append(f"- {r['scenario']} {r['label']}, run {r['rep'] + 1}: the tracer {r['note']}")
    unexplained = sum(1 for r in checked if not r["accounting"]["exact"])
    missing = sum(1 for r in checked if r["accounting"]["notes"])
    summary = (f"Loss accounting: {len(checked)} write-tracer runs checked (issued = captured + kernel drops; "
               f"events in each counted output = captured − that sink's drops); {missing} with events missing; "
               f"{'every missing event is explained by a drop counter' if unexplained == 0 else f'{unexplained} NOT explained'}.")
    return [summary, *lines]
