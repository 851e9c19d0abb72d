"""Process lifecycles for the --lifecycle tests, deterministically. Run as
`python3 -B -I -S lifecycle.py DIR`: forks the children below one at a time, waits for each,
and writes its raw wait(2) status as "status PID STATUS\n", so a test compares the tracer's exit
events with what wait(2) said; then exits with code 9. Every write goes to fd 1, which it points
at /dev/null first (the tracer sees the writes all the same). DIR is the children's working
directory, where the one that dumps core may leave its core file.

The children, in order:
  exit    writes, then _exit(4)
  kill    writes, then SIGKILL to itself
  core    writes, then abort() with RLIMIT_CORE unlimited (dumps core where the system allows)
  thread  a second thread writes, then exit_group(5) while the main thread waits for it
  leader  the main thread exits alone (SYS_exit 0); the other, last, writes, then SYS_exit(6):
          wait(2) reports the group leader's code, 0
  group   the main thread exits alone; the other calls exit_group(7): wait(2) reports 7
  exec    exec sh, which writes, then exits 3
  binary  exec sh with arguments that are not UTF-8
  long    exec sh with an argument of LONG_ARGUMENT bytes (longer than the tests' capture)
  threxec a second thread execs sh, which exits 2
"""

import ctypes
import os
import resource
import signal
import sys
import threading

LONG_ARGUMENT = "long-" + "0123456789" * 60
SYS_EXIT = {"x86_64": 60, "aarch64": 93}[os.uname().machine]
SH = "/bin/sh"

libc = ctypes.CDLL(None, use_errno=True)


def say(text):
    os.write(1, text.encode())


def exit_thread_alone(code):
    """SYS_exit: only the calling thread ends (ctypes releases the interpreter lock for the call)."""
    libc.syscall(SYS_EXIT, code)


def leader_gone(pid):
    """Whether the main thread of process pid has exited (a zombie thread while the others run)."""
    with open(f"/proc/{pid}/task/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def after_the_leader(then):
    pid = os.getpid()

    def last():
        while not leader_gone(pid):
            os.sched_yield()
        then()

    threading.Thread(target=last).start()
    exit_thread_alone(0)


def core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    say("aborting\n")
    os.abort()


def thread_exit_group():
    thread = threading.Thread(target=lambda: (say("thread exits 5\n"), os._exit(5)))
    thread.start()
    thread.join()


def exec_from_thread():
    thread = threading.Thread(target=lambda: os.execv(SH, ["sh", "-c", "exit 2"]))
    thread.start()
    thread.join()


CHILDREN = [
    lambda: (say("exiting 4\n"), os._exit(4)),
    lambda: (say("killing myself\n"), os.kill(os.getpid(), signal.SIGKILL)),
    core,
    thread_exit_group,
    lambda: after_the_leader(lambda: (say("last thread exits 6\n"), exit_thread_alone(6))),
    lambda: after_the_leader(lambda: os._exit(7)),
    lambda: os.execv(SH, ["sh", "-c", "echo exec; exit 3"]),
    lambda: os.execv(SH.encode(), [b"sh", b"-c", b"exit 0", b"caf\xe9", b"\xff\xfe"]),
    lambda: os.execv(SH, ["sh", "-c", "exit 0", LONG_ARGUMENT]),
    exec_from_thread,
]

null = os.open("/dev/null", os.O_WRONLY)
os.dup2(null, 1)
os.close(null)
os.chdir(sys.argv[1])
for child in CHILDREN:
    pid = os.fork()
    if pid == 0:
        try:
            child()
        finally:
            os._exit(100)  # not reached unless the child failed to end as it should
    _, status = os.waitpid(pid, 0)
    say(f"status {pid} {status}\n")
os._exit(9)
