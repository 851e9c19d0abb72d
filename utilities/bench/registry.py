"""The registry scenario: N sleeping children under one root, registered through the REST API,
as a job script would (a new process calls the API). Per write-tracer binary and setup it
measures the POST /pids and DELETE /pids/N round trips, the tracer's resident memory per tracked
process (the growth from before the registration, after a warm-up, to the end of the idle window,
over N + 1), and its CPU over a fixed idle window while the tree sleeps (no writes at all)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from harness import BenchError, WriteTracer, reap, wait_until

SLEEP_S = 86400
SPAWN_TIMEOUT_S = 300
SETTLE_S = 2  # after a registration, before memory is read and the idle window starts

# A client of its own for each request, as curl from a job script: a new process, which the
# tracer identifies from the kernel's socket table like any loopback caller. It times the
# request alone (connect, send, answer), not its own start.
CLIENT = r"""
import http.client, json, sys, time
method, path, body, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
start = time.perf_counter()
connection.request(method, path, body=body or None, headers={"Content-Type": "application/json"} if body else {})
answer = connection.getresponse()
text = answer.read().decode()
print(json.dumps({"status": answer.status, "ms": (time.perf_counter() - start) * 1000, "body": text}))
"""


class SleeperTree:
    """A shell and N `sleep` children, in a session of their own (killed as one)."""

    def __init__(self, children: int):
        self.children = children
        script = f"i=0; while [ $i -lt {children} ]; do sleep {SLEEP_S} & i=$((i+1)); done; wait"
        self.proc = subprocess.Popen(["/bin/sh", "-c", script], start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        try:
            wait_until(lambda: len(self.child_pids()) >= children, SPAWN_TIMEOUT_S,
                       f"{children} sleeping children", interval_s=0.2)
        except BenchError:
            self.kill()
            raise

    def child_pids(self) -> list[str]:
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap(self.proc, 30)


def request(method: str, path: str, body: str, port: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CLIENT, method, path, body, str(port)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"{method} {path} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def get_json(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as answer:
        return json.load(answer)


def resident_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for {pid}")


def cpu_ns(pid: int) -> int:
    """Time on CPU of every thread of the process (schedstat: nanoseconds, not clock ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total


def warm_up(port: int) -> None:
    """Registers and deletes a lone process, so that what the first request of a run costs (the
    API's first use of its code paths and buffers) is in the memory the tree's is compared with."""
    lone = subprocess.Popen(["sleep", str(SLEEP_S)])
    try:
        for method, path, body in (("POST", "/pids", json.dumps({"pid": lone.pid})), ("DELETE", f"/pids/{lone.pid}", "")):
            answer = request(method, path, body, port)
            if answer["status"] not in (200, 201):
                raise BenchError(f"warm-up {method} {path} answered {answer['status']}: {answer['body'][:300]}")
    finally:
        lone.kill()
        reap(lone, 10)


def measure(binary: str, args: tuple[str, ...], tree: SleeperTree, port: int, window_s: float) -> dict:
    """One tracer run: start it tracking nothing, warm it up, register the tree, read its memory,
    measure an idle window, delete the tree; the figures, or an "error"."""
    tracer = WriteTracer(binary, [*args, "-q", "--rest-port", str(port)])
    result: dict = {}
    try:
        warm_up(port)
        time.sleep(SETTLE_S)
        before_kib = resident_kib(tracer.proc.pid)
        registered = request("POST", "/pids", json.dumps({"pid": tree.pid}), port)
        if registered["status"] != 201:
            raise BenchError(f"POST /pids answered {registered['status']}: {registered['body'][:300]}")
        result["register_ms"] = registered["ms"]
        time.sleep(SETTLE_S)
        listed = get_json(port, f"/pids/{tree.pid}")
        result["tracked"] = listed["process_count"]
        result["threads"] = listed["thread_count"]
        start_ns, start = cpu_ns(tracer.proc.pid), time.monotonic()
        time.sleep(window_s)
        used_ns, elapsed = cpu_ns(tracer.proc.pid) - start_ns, time.monotonic() - start
        result["idle_cpu_pct"] = used_ns / 1e9 / elapsed * 100
        result["window_s"] = elapsed
        after_kib = resident_kib(tracer.proc.pid)
        result["rss_kib"] = after_kib
        result["rss_per_process_b"] = (after_kib - before_kib) * 1024 / (tree.children + 1)
        deleted = request("DELETE", f"/pids/{tree.pid}", "", port)
        if deleted["status"] != 200:
            raise BenchError(f"DELETE answered {deleted['status']}: {deleted['body'][:300]}")
        result["delete_ms"] = deleted["ms"]
    except (BenchError, OSError, KeyError, ValueError) as e:
        result["error"] = str(e)
    finally:
        usage = tracer.finish(signal.SIGTERM)
        if usage.exit_code != 0 and "error" not in result:
            result["error"] = f"tracer exited with {usage.exit_code}: {usage.stderr.strip()[-300:]}"
    if "tracked" in result and result["tracked"] != tree.children + 1 and "error" not in result:
        result["error"] = f"{result['tracked']} of {tree.children + 1} processes tracked"
    return result
