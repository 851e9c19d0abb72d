"""BENCH_AGAINST: the write-tracer of another git ref, built in a git worktree of its own under
build/bench/, so the working tree (and its build outputs) is never touched; the worktree is
removed afterwards, also when the run fails."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass

from harness import BenchError

LOG_TAIL_CHARS = 3000


@dataclass(frozen=True)
class BuiltRef:
    name: str    # how the report names it: the ref and its short commit
    binary: str  # its bin/write-tracer


def git(root: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True)


def resolve(root: str, ref: str) -> tuple[str, str]:
    """The commit a ref names, and a name for the report ("main (a837404)")."""
    found = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise BenchError(f"BENCH_AGAINST={ref}: not a commit of this repository")
    commit = found.stdout.strip()
    short = git(root, "rev-parse", "--short", commit).stdout.strip()
    return commit, short if ref.lower() in (commit.lower(), short.lower()) else f"{ref} ({short})"


def remove_worktree(root: str, path: str) -> None:
    """git worktree remove, then whatever a failed add or build left (ignored files included)."""
    git(root, "worktree", "remove", "--force", path)
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune")


@contextlib.contextmanager
def built(root: str, ref: str, out_dir: str):
    """Checks the ref out (detached) under out_dir, builds its bin/write-tracer with its own
    Makefile, and yields a BuiltRef; the worktree goes away on leaving."""
    commit, name = resolve(root, ref)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"against-{commit[:12]}")
    log_path = path + ".log"
    remove_worktree(root, path)  # a previous run's, if it was killed
    try:
        added = git(root, "worktree", "add", "--detach", "--quiet", path, commit)
        if added.returncode != 0:
            raise BenchError(f"BENCH_AGAINST={ref}: git worktree add failed: {added.stderr.strip()}")
        print(f"bench: building {name} in {os.path.relpath(path, root)} (log: {os.path.relpath(log_path, root)})",
              flush=True)
        # A build of its own, not a sub-make of `make bench`: none of the outer make's flags or overrides.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        with open(log_path, "w") as log:
            done = subprocess.run(["make", "-C", path, "--no-print-directory", "bin/write-tracer"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        if done.returncode != 0:
            with open(log_path) as log:
                tail = log.read()[-LOG_TAIL_CHARS:]
            raise BenchError(f"building {name} failed (make exited with {done.returncode}):\n{tail}")
        yield BuiltRef(name, os.path.join(path, "bin", "write-tracer"))
    finally:
        remove_worktree(root, path)
