"""Every call of the write family, deterministically: the same calls, with the same bytes,
on every run. Run as `python3 -B -I -S write_family.py FILE [--held]`; writes to /dev/null (fd 40)
and FILE (fd 41, created), from 4 threads, the main thread and 2 forked children. With
--held it waits for a line on stdin before writing, and for end of file after.

The reference test runs it under strace and under write-tracer and compares the calls."""

import ctypes
import os
import sys
import threading

NULL, FILE = 40, 41
BIG = 20000  # one buffer larger than the largest capture (16384)


def fixed_fd(fd, target):
    os.dup2(fd, target)
    os.close(fd)


fixed_fd(os.open("/dev/null", os.O_WRONLY), NULL)
fixed_fd(os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600), FILE)

libc = ctypes.CDLL(None, use_errno=True)


class Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_char_p), ("iov_len", ctypes.c_size_t)]


def iovecs(buffers):
    array = (Iovec * len(buffers))(*(Iovec(b, len(b)) for b in buffers))
    return array, len(buffers)


def checked(result, what):
    if result < 0:
        raise OSError(ctypes.get_errno(), what)
    return result


def pwritev(fd, buffers, offset):
    array, count = iovecs(buffers)
    return checked(libc.pwritev(fd, array, count, ctypes.c_long(offset)), "pwritev")


def pwritev2(fd, buffers, offset):
    array, count = iovecs(buffers)
    return checked(libc.pwritev2(fd, array, count, ctypes.c_long(offset), 0), "pwritev2")


def pattern(tag, size):
    return bytes((i * 7 + tag) % 256 for i in range(size))


def family(tag):
    os.write(NULL, b"write %d\n" % tag)
    os.write(NULL, b"")
    os.write(NULL, b"\xff\xfe\x00\x80 not UTF-8 %d" % tag)
    os.write(NULL, pattern(tag, BIG))
    os.writev(NULL, [b"one iovec %d\n" % tag])
    # 13 buffers, an empty one among them: a whole chunk of the tracer's iovec reads (8) and part of another.
    os.writev(NULL, [b"th", b"", b"ree"] + [b" %d" % i for i in range(9)] + [b" %d\n" % tag])
    # 1024 buffers (IOV_MAX): empty ones, binary ones, and one larger than the capture.
    os.writev(NULL, [pattern(tag + i, BIG if i == 700 else i % 5) for i in range(1024)])
    os.writev(NULL, [b"", b""])
    os.pwrite(FILE, b"pwrite64 %d\n" % tag, 100 * tag)
    os.pwrite(FILE, b"\x00\xc3\x28", 5000 + tag)
    pwritev(FILE, [b"pwritev ", b"%d\n" % tag], 1000 + tag)
    pwritev(FILE, [pattern(tag, 3) for _ in range(3)], 2000 + tag)
    pwritev2(FILE, [b"pwritev2 at the current position ", b"%d\n" % tag], -1)
    pwritev2(FILE, [b"pwritev2 at ", b"%d\n" % tag], 3000 + tag)


held = sys.argv[2:] == ["--held"]
if held:
    sys.stdin.readline()
threads = [threading.Thread(target=family, args=(tag,)) for tag in range(1, 5)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
family(0)
children = []
for tag in (10, 11):
    pid = os.fork()
    if pid == 0:
        family(tag)
        os._exit(0)
    children.append(pid)
for pid in children:
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit(1)
if held:
    sys.stdin.read()
