"""Checks of the benchmark's own instruments (run by `make bench` before it measures):
the parsing of write-tracer's summary, the loss accounting, output counting, what a binary
offers, the A/B overhead ratios and the ref an A/B run builds."""

import os
import re
import tempfile
import unittest

import against
import harness
import pipeline
from accounting import Summary, account
from bench import Candidate, quiet_loop, scaled, threaded_loop
import report
from report import Group, ab_table, document, group_records, pipeline_rows

SUMMARY = ("05:26:26.089 INF captured 2000001 writes (128000051 bytes); dropped: kernel 0, stdout 0; "
           "unreadable buffers 0")


class SummaryTests(unittest.TestCase):
    def test_reads_captured_and_every_drop_counter(self):
        summary = Summary.parse("05:26:23.013 INF tracking process 13329\n" + SUMMARY.replace(
            "stdout 0", "stdout 7, file 3, loki 12"))
        self.assertEqual(2000001, summary.captured)
        self.assertEqual({"kernel": 0, "stdout": 7, "file": 3, "loki": 12}, summary.drops)

    def test_a_run_without_sinks_has_only_the_kernel_counter(self):
        summary = Summary.parse("INF captured 5 writes (40 bytes); dropped: kernel 2; unreadable buffers 0")
        self.assertEqual({"kernel": 2}, summary.drops)

    def test_no_summary_line_is_none(self):
        self.assertIsNone(Summary.parse("INF tracing writes of 1 process\nERR something failed"))


class AccountingTests(unittest.TestCase):
    def test_nothing_missing_is_exact_without_notes(self):
        checked = account(2000001, Summary.parse(SUMMARY), {"stdout": 2000001})
        self.assertTrue(checked.exact)
        self.assertEqual([], checked.notes)

    def test_kernel_drops_explain_uncaptured_writes(self):
        checked = account(1000, Summary(990, {"kernel": 10, "file": 0}), {"file": 990})
        self.assertTrue(checked.exact)
        self.assertIn("10 writes not captured, all counted as kernel drops", checked.notes)

    def test_uncaptured_writes_beyond_the_kernel_counter_are_unexplained(self):
        checked = account(1000, Summary(985, {"kernel": 10}), {})
        self.assertFalse(checked.exact)
        self.assertIn("+5 unexplained", checked.notes[0])

    def test_events_missing_from_a_sink_must_match_its_drop_counter(self):
        explained = account(1000, Summary(1000, {"kernel": 0, "file": 4}), {"file": 996})
        unexplained = account(1000, Summary(1000, {"kernel": 0, "file": 4}), {"file": 990})
        self.assertTrue(explained.exact)
        self.assertFalse(unexplained.exact)
        self.assertIn("+6 unexplained", unexplained.notes[0])

    def test_a_counted_sink_without_a_drop_counter_is_not_exact(self):
        self.assertFalse(account(10, Summary(10, {"kernel": 0}), {"file": 10}).exact)


class CountingTests(unittest.TestCase):
    def write(self, content: bytes) -> str:
        fd, path = tempfile.mkstemp()
        os.write(fd, content)
        os.close(fd)
        self.addCleanup(os.remove, path)
        return path

    def test_needle_at_the_start_of_a_file_counts(self):
        path = self.write(b"3 10 10 64\n13 10 10 64\n3 11 11 64\n")
        self.assertEqual(2, harness.count_occurrences([path], b"\n3 "))
        self.assertEqual(3, harness.count_occurrences([path], b"\n"))

    def test_matches_across_chunk_boundaries_count_once(self):
        line = b'{"pid":1,"fd":3,"data":"x"}\n'
        count = harness.CHUNK_BYTES // len(line) + 10  # spans two chunks
        path = self.write(line * count)
        self.assertEqual(count, harness.count_occurrences([path], b',"fd":3,'))

    def test_find_all_keeps_duplicates(self):
        path = self.write(b"Lost 5 events\nLost 5 events\n")
        self.assertEqual([b"5", b"5"], harness.find_all([path], re.compile(rb"Lost (\d+) events")))


class RatioTests(unittest.TestCase):
    def test_each_ratio_uses_the_baseline_of_its_own_repetition(self):
        def record(rep, setup, ns):
            return {"rep": rep, "scenario": "w1", "setup": setup, "label": setup, "data_writes": 100,
                    "ns_per_write": ns}
        groups = group_records([record(0, "none", 100), record(0, "wt", 200),
                                record(1, "none", 300), record(1, "wt", 330),
                                record(2, "none", 100), record(2, "wt", 150)])
        traced = next(g for g in groups if g.first["setup"] == "wt")
        self.assertIsInstance(traced, Group)
        self.assertAlmostEqual(1.5, traced.ratio)  # median of 2.0, 1.1, 1.5


class WorkloadTests(unittest.TestCase):
    def test_the_writev_variant_of_w1_keeps_its_buffers_when_scaled(self):
        w1v = quiet_loop("w1v", "W1v", 1000, 64, "/dev/null", "-v", "4")
        self.assertEqual(("-q", "100", "-s", "64", "-v", "4", "-o", "/dev/null"), scaled(w1v, 10).args)
        self.assertEqual(100, scaled(w1v, 10).data_writes)


class DocumentTests(unittest.TestCase):
    def test_a_saved_run_renders_its_rows_targets_and_accounting(self):
        base = {"rep": 0, "scenario": "w1", "title": "W1", "data_writes": 100, "traced_writes": 101, "processes": 1}
        records = [
            base | {"setup": "none", "label": "no tracer", "ns_per_write": 100},
            base | {"setup": "wt-stdout", "label": "write-tracer → stdout", "ns_per_write": 300,
                    "completeness": 1.0, "counted_by": "counters", "captured": 101,
                    "drops": {"kernel": 0, "stdout": 0}, "tracer_cpu_s": 0.5, "startup_cpu_s": 0.45,
                    "max_rss_kib": 50 * 1024, "ready_s": 0.2,
                    "accounting": {"exact": True, "missing": {"kernel": 0}, "notes": []}},
            base | {"setup": "wt-file", "label": "write-tracer → file", "na": "n/a (needs the sinks)"},
            base | {"scenario": "w1v", "title": "W1v", "setup": "none", "label": "no tracer", "ns_per_write": 200},
            base | {"scenario": "w1v", "title": "W1v", "setup": "wt-stdout", "label": "write-tracer --syscalls all → stdout",
                    "ns_per_write": 400, "completeness": 1.0, "counted_by": "counters", "captured": 101,
                    "drops": {"kernel": 0, "stdout": 0},
                    "accounting": {"exact": True, "missing": {"kernel": 0}, "notes": []}},
        ]
        text = document({"machine": MACHINE, "runs": 1, "quick": False, "records": records, "pipeline": None})
        self.assertIn("| write-tracer → stdout | 300 ns/write | 3.00× | 100% ¹ | exact in 1/1 runs; "
                      "max drops: kernel 0, stdout 0 | ≤ 2.5×, 100%, no drops: **not met** |", text)
        self.assertIn("| write-tracer → file | n/a (needs the sinks) |", text)
        self.assertIn("| W1v | no tracer | 200 ns/write | 1.00× (baseline) |", text)
        self.assertIn("|  | write-tracer --syscalls all → stdout | 400 ns/write | 2.00× | 100% ¹ |", text)
        self.assertLess(text.index("| W1 |"), text.index("| W1v |"))
        self.assertIn("| peak RSS | 50 MiB | — | — | — | ≤ 55 MiB: met |", text)
        self.assertIn("| start → \"tracing\" log line | 200 ms | — | — | — | ≤ 60 ms: **not met** |", text)
        self.assertNotIn("WARNING", text)


MACHINE = {"commit": "abc", "date": "today", "nproc": 2, "cpu": "cpu", "memory_gib": 1,
           "kernel": "6.1", "strace": "strace", "bpftrace": "bpftrace"}


def run_record(rep, scenario, setup, ns, candidate=None, **extra):
    record = {"rep": rep, "scenario": scenario, "title": scenario.upper(), "setup": setup,
              "label": setup + (f" [{candidate}]" if candidate else ""), "variant": setup,
              "data_writes": 100, "traced_writes": 101, "processes": 1, "ns_per_write": ns}
    if candidate:
        record["candidate"] = candidate
    return record | extra


class ScenarioTests(unittest.TestCase):
    def test_w3_and_getppid_rows_carry_their_targets(self):
        exact = {"exact": True, "missing": {"kernel": 0}, "notes": []}
        inexact = {"exact": False, "missing": {"kernel": 3}, "notes": ["3 of 201 writes not captured"]}
        records = [
            run_record(0, "w3", "none", 100),
            run_record(0, "w3", "wt-stdout", 300, completeness=1.0, captured=201, drops={"kernel": 0},
                       accounting=exact),
            run_record(0, "w3", "wt-file", 300, completeness=1.0, captured=201, drops={"kernel": 0},
                       accounting=inexact),
            run_record(0, "getppid", "none", 200),
            run_record(0, "getppid", "wt-other", 260),
        ]
        text = document({"machine": MACHINE, "runs": 1, "quick": False, "records": records, "pipeline": None})
        self.assertIn("| wt-stdout | 300 ns/write | 3.00× | 100% | exact in 1/1 runs; max drops: kernel 0 | "
                      "100%, exact accounting: met |", text)
        self.assertIn("| wt-file | 300 ns/write | 3.00× | 100% | exact in 0/1 runs; max drops: kernel 0 | "
                      "100%, exact accounting: **not met** |", text)
        self.assertIn("| GETPPID, while a tracer runs | none | 200 ns/call | 1.00× (baseline) |", text)
        self.assertIn("| wt-other | 260 ns/call | 1.30× | — | — | ≤ 1.35×: met |", text)

    def test_the_threaded_loop_counts_every_threads_writes(self):
        w3 = threaded_loop("w3", "W3", 2, 1000, 64, "/dev/null")
        self.assertEqual(("-t", "2", "-q", "1000", "-s", "64", "-o", "/dev/null"), w3.args)
        self.assertEqual(2001, w3.traced_writes)  # and the writer's "writer done" line
        self.assertIs(w3, scaled(w3, 1))


class RegistryTests(unittest.TestCase):
    @staticmethod
    def record(rep, children, variant, candidate=None, **figures):
        label = variant + (f" [{candidate}]" if candidate else "")
        return {"rep": rep, "scenario": "registry", "title": "Registry", "setup": "wt-registry", "label": label,
                "variant": variant, "data_writes": children, "traced_writes": 0, "processes": children + 1,
                "tracked": children + 1, "window_s": 15.0, **figures}

    def test_each_size_has_its_medians_and_the_targets_of_the_default_interval(self):
        fast = {"register_ms": 80, "delete_ms": 20, "idle_cpu_pct": 0.2, "rss_per_process_b": 900}
        records = [self.record(0, 4000, "default", **fast),
                   self.record(1, 4000, "default", **(fast | {"register_ms": 120, "idle_cpu_pct": 0.4})),
                   self.record(2, 4000, "default", **(fast | {"register_ms": 90})),
                   self.record(0, 16000, "default", **(fast | {"register_ms": 400, "idle_cpu_pct": 0.6})),
                   self.record(0, 1000, "walking -i 1", **(fast | {"idle_cpu_pct": 4.0}))]
        rows = {row.setup: row for row in report.registry_rows(group_records(records))}
        self.assertEqual("POST 90 ms, DELETE 20 ms; idle CPU 0.20% of a core over 15 s; 900 B RSS per tracked process",
                         rows["default, N = 4,000"].measured)
        self.assertEqual("4,001/4,001 tracked", rows["default, N = 4,000"].captured)
        self.assertEqual("POST ≤ 100 ms, DELETE ≤ 50 ms, CPU ≤ 0.5%, ≤ 2 KiB/process: met", rows["default, N = 4,000"].target)
        # Beyond 4,000 processes only CPU and memory have targets (the CPU's keeps it flat in N).
        self.assertEqual("CPU ≤ 0.5%, ≤ 2 KiB/process: **not met**", rows["default, N = 16,000"].target)
        self.assertEqual("", rows["walking -i 1, N = 1,000"].target)

    def test_a_failed_run_is_named_and_a_tree_not_wholly_tracked_shows(self):
        fast = {"register_ms": 80, "delete_ms": 20, "idle_cpu_pct": 0.2, "rss_per_process_b": 900}
        records = [self.record(0, 1000, "default", error="POST /pids answered 507"),
                   self.record(0, 4000, "default", **(fast | {"tracked": 3999}))]
        rows = {row.setup: row for row in report.registry_rows(group_records(records))}
        self.assertEqual("failed — 1 run(s) failed: POST /pids answered 507", rows["default, N = 1,000"].measured)
        self.assertEqual("3,999/4,001 tracked", rows["default, N = 4,000"].captured)

    def test_registry_rows_are_in_the_document_and_stay_out_of_the_ab_table(self):
        fast = {"register_ms": 80, "delete_ms": 20, "idle_cpu_pct": 0.2, "rss_per_process_b": 900}
        records = [self.record(0, 4000, "default", "new", **fast),
                   self.record(0, 4000, "default", "old", **(fast | {"register_ms": 600}))]
        for r, candidate in zip(records, ("new", "old")):
            r["candidate"] = candidate
        saved = {"machine": MACHINE, "runs": 1, "quick": False, "records": records, "pipeline": None,
                 "candidates": {"new": "working tree (abc)", "old": "main (def)"}}
        text = document(saved)
        self.assertIn("| default [new], N = 4,000 | POST 80 ms", text)
        self.assertIn("| default [old], N = 4,000 | POST 600 ms", text)
        self.assertEqual([], ab_table(records, saved["candidates"]))
        self.assertNotIn("A/B:", text)


class CandidateTests(unittest.TestCase):
    HELP = ("  --attach <tracepoint|raw|fentry>  Where write(2) is intercepted [default: tracepoint]\n"
            "  --rest-port <PORT>  ...\n")

    def test_attach_choices_come_from_the_help_synopsis(self):
        candidate = Candidate("new", "working tree", "/bin/true", help_text=self.HELP)
        self.assertTrue(candidate.has_attach("raw"))
        self.assertTrue(candidate.has_attach("fentry"))
        self.assertFalse(candidate.has_attach("kprobe"))
        self.assertTrue(candidate.has("--rest-port"))

    def test_the_default_hook_comes_from_the_attach_line(self):
        self.assertEqual("tracepoint", Candidate("new", "working tree", "/bin/true", help_text=self.HELP).default_attach)
        raw = "  --attach <tracepoint|raw|fentry>  Where [env: WRITE_TRACER_ATTACH] [default: raw]\n  --format <F>  [default: json]\n"
        self.assertEqual("raw", Candidate("new", "working tree", "/bin/true", help_text=raw).default_attach)
        self.assertIsNone(Candidate("old", "main", "/bin/true", help_text="").default_attach)

    def test_a_hook_named_only_in_a_description_is_not_a_choice(self):
        help_text = "  --attach <tracepoint|fentry>  tracepoint (syscalls:sys_enter_write), not raw\n"
        self.assertFalse(Candidate("old", "main", "/bin/true", help_text=help_text).has_attach("raw"))
        self.assertFalse(Candidate("old", "main", "/bin/true", help_text="").has_attach("tracepoint"))

    def test_the_description_names_the_extra_options(self):
        self.assertEqual("main (abc1234) --attach raw",
                         Candidate("old", "main (abc1234)", "/bin/true", ("--attach", "raw")).described)


class WritePathTests(unittest.TestCase):
    def test_write_family_and_raw_syscall_tracepoints_are_on_the_write_path(self):
        for line in ("pid 1  fd 167: prog_id 209  tracepoint  sys_enter_write",
                     "pid 1  fd 7: prog_id 9  tracepoint  sys_exit_pwritev2",
                     "pid 1  fd 8: prog_id 10  raw_tracepoint  sys_enter",
                     "pid 1  fd 8: prog_id 10  raw_tracepoint  sys_exit  "):
            self.assertTrue(harness.on_write_path(line), line)

    def test_other_tracepoints_are_not(self):
        for line in ("pid 1  fd 165: prog_id 211  raw_tracepoint  sched_process_fork",
                     "pid 1  fd 3: prog_id 4  tracepoint  sys_enter_read",
                     "pid 1  fd 3: prog_id 4  tracepoint  sys_enter_writeback"):
            self.assertFalse(harness.on_write_path(line), line)


class AbTests(unittest.TestCase):
    CANDIDATES = {"new": "working tree (abc)", "old": "main (def)"}

    def table(self, records):
        return "\n".join(ab_table(records, self.CANDIDATES))

    def test_the_ratio_is_the_median_of_per_repetition_overhead_ratios(self):
        records = []
        # rep 0: 100 over 200 = 0.5; rep 1: 150 over 200 = 0.75; rep 2: 60 over 100 = 0.6
        for rep, (base, new, old) in enumerate([(100, 200, 300), (300, 450, 500), (100, 160, 200)]):
            records += [run_record(rep, "w1", "none", base), run_record(rep, "w1", "wt-stdout", new, "new"),
                        run_record(rep, "w1", "wt-stdout", old, "old")]
        self.assertIn("| W1 | wt-stdout | 100 ns/write | 200 ns/write | 0.60× (3 repetition(s)) | ≤ 0.65×: met |",
                      self.table(records))

    def test_repetitions_disturbed_by_another_tracer_are_left_out(self):
        records = [run_record(0, "untracked", "none", 100), run_record(0, "untracked", "wt-other", 150, "new"),
                   run_record(0, "untracked", "wt-other", 200, "old"),
                   run_record(1, "untracked", "none", 100, foreign=["pid 9 tracepoint sys_enter_write"]),
                   run_record(1, "untracked", "wt-other", 900, "new"),
                   run_record(1, "untracked", "wt-other", 200, "old")]
        self.assertIn("| UNTRACKED | wt-other | 50 ns/write | 100 ns/write | 0.50× (1 repetition(s)) | ≤ 0.5×: met |",
                      self.table(records))

    def test_only_disturbed_repetitions_are_used_and_marked(self):
        foreign = {"foreign": ["pid 9 raw_tracepoint sys_enter"]}
        records = [run_record(0, "getppid", "none", 100), run_record(0, "getppid", "wt-other", 130, "new", **foreign),
                   run_record(0, "getppid", "wt-other", 110, "old")]
        self.assertIn("| GETPPID | wt-other | 30 ns/call † | 10 ns/call † | 3.00× (1 repetition(s)) † |  |",
                      self.table(records))

    def test_no_old_overhead_gives_no_ratio(self):
        records = [run_record(0, "untracked", "none", 100), run_record(0, "untracked", "wt-daemon", 101, "new"),
                   run_record(0, "untracked", "wt-daemon", 99, "old")]
        self.assertIn("| 1 ns/write | -1 ns/write | — (no overhead to compare) |", self.table(records))

    def test_failed_runs_and_unpaired_setups_are_skipped(self):
        records = [run_record(0, "w1", "none", 100), run_record(0, "w1", "wt-stdout", 300, "new"),
                   run_record(0, "w1", "wt-stdout", 300, "old", error="tracer exited with 1"),
                   run_record(0, "w1", "wt-file", 300, "new")]
        self.assertNotIn("wt-stdout", self.table(records))
        self.assertNotIn("wt-file", self.table(records))

    def test_the_document_has_the_ab_table_only_in_an_ab_run(self):
        records = [run_record(0, "w2", "none", 100), run_record(0, "w2", "wt-stdout", 200, "new"),
                   run_record(0, "w2", "wt-stdout", 300, "old")]
        saved = {"machine": MACHINE, "runs": 1, "quick": True, "records": records, "pipeline": None}
        self.assertIn("A/B: new = working tree (abc), old = main (def)",
                      document(saved | {"candidates": self.CANDIDATES}))
        self.assertNotIn("A/B:", document(saved | {"candidates": {"new": "working tree (abc)"}}))


class AgainstTests(unittest.TestCase):
    ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

    def test_a_ref_resolves_to_its_commit_and_a_name_with_the_short_commit(self):
        commit, name = against.resolve(self.ROOT, "HEAD")
        self.assertRegex(commit, r"^[0-9a-f]{40}$")
        self.assertRegex(name, r"^HEAD \([0-9a-f]{7,}\)$")
        self.assertEqual(commit, against.resolve(self.ROOT, commit)[0])
        self.assertNotIn("(", against.resolve(self.ROOT, commit)[1])

    def test_an_unknown_ref_is_refused_by_name(self):
        with self.assertRaisesRegex(harness.BenchError, "BENCH_AGAINST=no-such-ref: not a commit"):
            against.resolve(self.ROOT, "no-such-ref")


class PipelineTests(unittest.TestCase):
    @staticmethod
    def case(job: str, method: str, median: float | None) -> dict:
        return {"DisplayInfo": f"PipelineBenchmarks.{method}: {job}(Toolchain=X, IterationCount=5) [Payload=Text64]",
                "Parameters": "Payload=Text64", "MethodTitle": method,
                "Statistics": {"Median": median} if median is not None else None,
                "Memory": {"BytesAllocatedPerOperation": 3}}

    def test_each_job_has_its_figures_and_its_own_replay_check(self):
        report = {"Benchmarks": [self.case("JIT", "'raw copy'", 30), self.case("JIT", "pipeline", 150),
                                 self.case("NativeAOT", "'raw copy'", 30), self.case("NativeAOT", "pipeline", 120)]}
        log = ("replay check: job=JIT payload=Text64 fed=0 captured=0 malformed=0 delivered=0 dropped=0\n"
               "replay check: job=JIT payload=Text64 fed=100 captured=100 malformed=0 delivered=100 dropped=0\n"
               "replay check: job=NativeAOT payload=Text64 fed=80 captured=80 malformed=0 delivered=79 dropped=1\n")
        results = pipeline.read(report, log)
        self.assertEqual(150, results["JIT"]["Text64"]["pipeline"]["ns_per_event"])
        self.assertEqual(120, results["NativeAOT"]["Text64"]["pipeline"]["ns_per_event"])
        self.assertEqual(100, results["JIT"]["Text64"]["check"]["fed"])
        self.assertEqual(1, results["NativeAOT"]["Text64"]["check"]["dropped"])
        rows = {row.setup: row for row in pipeline_rows(results) if row.setup.startswith("64 B text")}
        self.assertEqual("6.67 M events/s (150 ns/event, 3 B/event allocated)", rows["64 B text (W1), JIT"].measured)
        self.assertEqual("8.33 M events/s (120 ns/event, 3 B/event allocated)", rows["64 B text (W1), Native AOT"].measured)
        self.assertEqual("**1 not delivered, 1 dropped**", rows["64 B text (W1), Native AOT"].accounting)

    def test_a_job_that_failed_is_a_failed_row_not_a_missing_one(self):
        results = pipeline.read({"Benchmarks": [self.case("JIT", "pipeline", 150), self.case("NativeAOT", "pipeline", None)]}, "")
        rows = {row.setup: row.measured for row in pipeline_rows(results) if row.setup.startswith("64 B text")}
        self.assertEqual("failed (see the benchmark's log)", rows["64 B text (W1), Native AOT"])
        self.assertNotIn("NativeAOT", results)

    def test_no_pipeline_run_has_no_rows(self):
        self.assertEqual([], pipeline_rows({}))


if __name__ == "__main__":
    unittest.main()
