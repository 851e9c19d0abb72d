"""The processes a benchmark run consists of: a held writer (the traced workload) and the
tracer under test, each a child of the harness, never of each other, so the writer's
elapsed time and each tracer's resource usage are measured on their own."""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

READY_TIMEOUT_S = 60
EXIT_TIMEOUT_S = 30
CLOCK_TICK_S = 1 / os.sysconf("SC_CLK_TCK")
RSS_SAMPLE_S = 0.05
CHUNK_BYTES = 8 << 20  # small: the harness's own memory must not matter


class BenchError(Exception):
    """A run that could not be measured; the message says why."""


@dataclass
class WriterRun:
    elapsed_s: float
    exit_code: int
    cpu_s: float


@dataclass
class TracerUsage:
    """What a tracer process cost, from its own rusage (never its children's)."""
    exit_code: int
    cpu_s: float
    startup_cpu_s: float | None
    max_rss_kib: int       # VmHWM, sampled every RSS_SAMPLE_S and before a stop signal
    ready_s: float | None
    stderr: str
    escalated: str | None  # how it had to be stopped, when it did not stop as asked


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def wait_until(condition, timeout_s: float, what: str, interval_s: float = 0.01) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a live process, from /proc/PID/stat (clock-tick resolution)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK_S


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM (peak resident set) of a live process, from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def reap(proc: subprocess.Popen, timeout_s: float) -> tuple[int, os.struct_rusage] | None:
    """Waits for a child and returns its exit code and its own rusage; None on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


class LineLog:
    """A child's stderr read on a thread, each line kept with its arrival time, so the
    harness can wait for a readiness line and later read the exit summary."""

    def __init__(self, stream):
        self._lines: list[tuple[float, str]] = []
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream) -> None:
        for raw in stream:
            arrived = time.monotonic()
            with self._changed:
                self._lines.append((arrived, raw.decode(errors="replace").rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, pattern: re.Pattern, timeout_s: float) -> float | None:
        """Arrival time of the first line matching pattern; None if the stream ended or time ran out."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for arrived, line in self._lines:
                    if pattern.search(line):
                        return arrived
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def text(self) -> str:
        self._thread.join(5)
        with self._changed:
            return "\n".join(line for _, line in self._lines)


class HeldWriter:
    """bin/writer -W: it announces its pid, then blocks on stdin until released, so a
    tracer attaches before the first measured write."""

    def __init__(self, writer: str, args: list[str], log_path: str):
        self.argv = [writer, "-W", *args]
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=log)
        self.pid = self.proc.pid
        # The announcement must precede any tracer: it is not one of the traced writes.
        wait_until(lambda: b"writer pid" in read_bytes(log_path), 10, "the writer to start")

    def run(self, guard_s: float) -> WriterRun:
        """Releases the writer and times it until it has exited."""
        guard = threading.Timer(guard_s, self.proc.kill)
        guard.start()
        start = time.perf_counter()
        self.proc.stdin.write(b"\n")
        self.proc.stdin.close()
        _, status, usage = os.wait4(self.pid, 0)
        elapsed = time.perf_counter() - start
        guard.cancel()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return WriterRun(elapsed, self.proc.returncode, usage.ru_utime + usage.ru_stime)

    def abort(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            reap(self.proc, 10)


class TracerProcess:
    """A tracer under test. Subclasses say how it becomes ready, how it stops, and where
    its events are."""

    def __init__(self, argv: list[str], stdout_path: str | None = None):
        self.argv = argv
        self.started = time.monotonic()
        self.ready_s: float | None = None
        self.startup_cpu_s: float | None = None
        stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
        finally:
            if stdout_path:
                stdout.close()
        self.stderr = LineLog(self.proc.stderr)
        self.peak_rss_kib = 0
        threading.Thread(target=self._watch_memory, daemon=True).start()

    def _watch_memory(self) -> None:
        """Samples VmHWM until the process ends. rusage's ru_maxrss is no use here: exec
        carries the spawning harness's own peak into the child's."""
        while self.proc.returncode is None:
            peak = peak_rss_kib(self.proc.pid)
            if peak is None:
                return
            self.peak_rss_kib = max(self.peak_rss_kib, peak)
            time.sleep(RSS_SAMPLE_S)

    def _ready_at(self, arrived: float) -> None:
        self.ready_s = arrived - self.started
        self.startup_cpu_s = process_cpu_seconds(self.proc.pid)

    def _wait_for_line(self, pattern: re.Pattern, what: str) -> None:
        arrived = self.stderr.wait_for(pattern, READY_TIMEOUT_S)
        if arrived is None:
            self.kill()
            raise BenchError(f"{what} never became ready: {' '.join(self.argv)}\n{self.stderr.text()[-2000:]}")
        self._ready_at(arrived)

    def finish(self, stop_signal: int | None) -> TracerUsage:
        """Lets the tracer exit on its own (stop_signal None) or signals it, then reaps it;
        one that does not exit in time gets SIGTERM, then SIGKILL, and the usage says so."""
        if stop_signal is not None and self.proc.returncode is None:
            self.peak_rss_kib = max(self.peak_rss_kib, peak_rss_kib(self.proc.pid) or 0)
            self.proc.send_signal(stop_signal)
        reaped = reap(self.proc, EXIT_TIMEOUT_S)
        escalated = None
        for escalation in (signal.SIGTERM, signal.SIGKILL):
            if reaped is not None:
                break
            escalated = f"did not exit within {EXIT_TIMEOUT_S} s; sent {escalation.name}"
            self.proc.send_signal(escalation)
            reaped = reap(self.proc, 10)
        if reaped is None:
            raise BenchError(f"{self.argv[0]} survived SIGKILL\n{self.stderr.text()[-2000:]}")
        exit_code, usage = reaped
        return TracerUsage(exit_code, usage.ru_utime + usage.ru_stime, self.startup_cpu_s,
                           self.peak_rss_kib, self.ready_s, self.stderr.text(), escalated)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            reap(self.proc, 10)


class WriteTracer(TracerProcess):
    """bin/write-tracer; ready at its "tracing" log line, summary at exit."""

    READY = re.compile(r"\btracing\b")

    def __init__(self, binary: str, args: list[str], stdout_path: str | None = None,
                 event_files: str | None = None):
        super().__init__([binary, "--metrics-port", "0", *args], stdout_path)
        self.event_files = event_files or stdout_path
        self.stage = "file" if event_files else "stdout"  # the sink whose output event_files holds
        self._wait_for_line(self.READY, "write-tracer")

    def outputs(self) -> list[str]:
        return sorted(glob.glob(glob.escape(self.event_files) + "*")) if self.event_files else []

    def data_events(self, fd: int) -> int:
        return count_occurrences(self.outputs(), b',"fd":%d,' % fd)

    def writing_pids(self, fd: int) -> set[bytes]:
        return set(find_all(self.outputs(), re.compile(
            rb'^\{"time":"[^"]*","pid":(\d+),"tid":\d+,"root_pid":\d+,"comm":"[^"]*","fd":%d,' % fd, re.M)))


class Strace(TracerProcess):
    """strace -f -e trace=write -o FILE -p PID; ready once attached; exits with its tracee."""

    def __init__(self, pid: int, output: str):
        super().__init__(["strace", "-f", "-e", "trace=write", "-o", output, "-p", str(pid)])
        self.output = output
        self._wait_for_line(re.compile(r"Process \d+ attached"), "strace")

    def data_events(self, fd: int) -> int:
        return count_occurrences([self.output], b" write(%d, " % fd)

    def writing_pids(self, fd: int) -> set[bytes]:
        return set(find_all([self.output], re.compile(rb"^(\d+) +write\(%d, " % fd, re.M)))


class Bpftrace(TracerProcess):
    """A bpftrace one-liner on sys_enter_write filtered by pid, one line per write. It is
    ready once the kernel lists its tracepoint attachment, and stops at SIGINT."""

    def __init__(self, pid: int, output: str):
        program = ('tracepoint:syscalls:sys_enter_write /pid == %d/ '
                   '{ printf("%%d %%d %%d %%d\\n", args->fd, pid, tid, args->count); }' % pid)
        super().__init__(["bpftrace", "-o", output, "-e", program])
        self.output = output
        wait_until(self._attached, READY_TIMEOUT_S, "bpftrace to attach", interval_s=0.05)
        self._ready_at(time.monotonic())

    def _attached(self) -> bool:
        if self.proc.poll() is not None:
            raise BenchError(f"bpftrace exited with {self.proc.returncode}\n{self.stderr.text()[-2000:]}")
        return any(f"pid {self.proc.pid} " in line for line in write_tracepoint_attachments())

    def drain_and_stop(self) -> TracerUsage:
        """Waits until its output stops growing (it reads its perf buffers behind the
        writer), then sends SIGINT, as a user would."""
        last, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + EXIT_TIMEOUT_S
        while time.monotonic() - stable_since < 0.5 and time.monotonic() < deadline:
            size = os.path.getsize(self.output) if os.path.exists(self.output) else 0
            if size != last:
                last, stable_since = size, time.monotonic()
            time.sleep(0.05)
        return self.finish(signal.SIGINT)

    def data_events(self, fd: int) -> int:
        return count_occurrences([self.output], b"\n%d " % fd)

    def writing_pids(self, fd: int) -> set[bytes]:
        return set(find_all([self.output], re.compile(rb"^%d (\d+) " % fd, re.M)))

    def reported_lost(self, stderr: str) -> int:
        """Events bpftrace itself says it lost (perf buffer full)."""
        pattern = re.compile(rb"Lost (\d+) events")
        return sum(int(n) for n in pattern.findall(stderr.encode()) + find_all([self.output], pattern))


# A BPF program on a write-family syscall tracepoint, or on the raw sys_enter / sys_exit
# tracepoints, which every syscall of every task passes.
_WRITE_PATH = re.compile(r"\braw_tracepoint\s+sys_(enter|exit)$|"
                         r"\btracepoint\s+sys_(enter|exit)_(write|writev|pwrite64|pwritev|pwritev2)$")


def on_write_path(line: str) -> bool:
    """Whether a `bpftool perf show` line is a BPF program every write pays for."""
    return _WRITE_PATH.search(line.rstrip()) is not None


def write_tracepoint_attachments() -> list[str]:
    """`bpftool perf show` lines for BPF programs on the write path (see on_write_path)."""
    listing = subprocess.run(["bpftool", "perf", "show"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if on_write_path(line)]


def fentry_link_count() -> int:
    """BPF tracing links (fentry/fexit) on the host; bpftool cannot name their owners."""
    listing = subprocess.run(["bpftool", "link", "show"], capture_output=True, text=True).stdout
    return len(re.findall(r"attach_type trace_f(entry|exit)", listing))


def count_occurrences(paths: list[str], needle: bytes) -> int:
    """Occurrences of needle in the files, read in chunks; a needle starting with a
    newline also matches at the start of each file."""
    total = 0
    for path in paths:
        tail = b"\n" if needle.startswith(b"\n") and len(needle) > 1 else b""
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                block = tail + chunk
                total += block.count(needle)
                tail = block[-(len(needle) - 1):] if len(needle) > 1 else b""
    return total


def find_all(paths: list[str], pattern: re.Pattern) -> list[bytes]:
    """Every match (its group) of pattern in the files, each read whole: small outputs only."""
    return [match for path in paths for match in pattern.findall(read_bytes(path))]
