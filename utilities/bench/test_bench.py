"""Checks of the benchmark's own instruments (run by `make bench` before it measures):
the parsing of write-tracer's summary, the loss accounting, and output counting."""

import os
import re
import tempfile
import unittest

import harness
from bench import quiet_loop, scaled
from accounting import Summary, account
from report import Group, document, group_records

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
        machine = {"commit": "abc", "date": "today", "nproc": 2, "cpu": "cpu", "memory_gib": 1,
                   "kernel": "6.1", "strace": "strace", "bpftrace": "bpftrace"}
        text = document({"machine": machine, "runs": 1, "quick": False, "records": records, "pipeline": None})
        self.assertIn("| write-tracer → stdout | 300 ns/write | 3.00× | 100% ¹ | exact in 1/1 runs; "
                      "max drops: kernel 0, stdout 0 | ≤ 2.5×, 100%, no drops: **not met** |", text)
        self.assertIn("| write-tracer → file | n/a (needs the sinks) |", text)
        self.assertIn("| W1v | no tracer | 200 ns/write | 1.00× (baseline) |", text)
        self.assertIn("|  | write-tracer --syscalls all → stdout | 400 ns/write | 2.00× | 100% ¹ |", text)
        self.assertLess(text.index("| W1 |"), text.index("| W1v |"))
        self.assertIn("| ≤ 60 MiB: met |", text)
        self.assertNotIn("WARNING", text)


if __name__ == "__main__":
    unittest.main()
