"""Loss accounting for write-tracer runs: every write the tracked processes issued is
either captured or counted as a kernel drop, and every captured event is either in a
sink's output or counted as that sink's drop. A run where the counters do not explain
every missing event is reported as such."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SUMMARY = re.compile(r"captured (\d+) writes?\b.*?; dropped: ([^;]*)")
_STAGE = re.compile(r"([a-z_]+) (\d+)")


@dataclass
class Summary:
    """write-tracer's exit summary: "captured N writes (…); dropped: kernel K, stdout S…"."""
    captured: int
    drops: dict[str, int]

    @classmethod
    def parse(cls, stderr: str) -> Summary | None:
        found = None
        for found in _SUMMARY.finditer(stderr):
            pass  # the last summary line is the run's
        if found is None:
            return None
        drops = {stage: int(n) for stage, n in _STAGE.findall(found.group(2))}
        return cls(int(found.group(1)), drops)


@dataclass
class Accounting:
    exact: bool
    missing: dict[str, int] = field(default_factory=dict)   # per stage: events absent there
    notes: list[str] = field(default_factory=list)


def account(issued: int, summary: Summary, delivered: dict[str, int]) -> Accounting:
    """Checks issued == captured + kernel drops, and for each sink whose output was
    counted, delivered == captured - its drops. delivered maps a stage to the events
    found in its output."""
    result = Accounting(exact=True)
    kernel = summary.drops.get("kernel", 0)
    missing = issued - summary.captured
    result.missing["kernel"] = missing
    if missing != kernel:
        result.exact = False
        result.notes.append(f"{missing:,} of {issued:,} writes not captured but the kernel counted "
                            f"{kernel:,} drops: {missing - kernel:+,} unexplained")
    elif missing:
        result.notes.append(f"{missing:,} writes not captured, all counted as kernel drops")
    for stage, count in delivered.items():
        dropped = summary.drops.get(stage)
        absent = summary.captured - count
        result.missing[stage] = absent
        if dropped is None:
            result.exact = False
            result.notes.append(f"the summary has no drop counter for {stage}")
        elif absent != dropped:
            result.exact = False
            result.notes.append(f"{absent:,} captured events absent from {stage} but {dropped:,} counted "
                                f"as dropped there: {absent - dropped:+,} unexplained")
        elif absent:
            result.notes.append(f"{absent:,} events absent from {stage}, all counted as {stage} drops")
    return result
