// writer — deterministic write(2) workload for write-tracer end-to-end tests
// and benchmarks.
//
// Every payload is produced by exactly one write(2) whose bytes are a pure
// function of (pid, tid, seq) and the options, so a test that knows the pids
// and tids (they are inside the payload) can predict every event the tracer
// must report. Run with -h for the options; utilities/README.md has examples.
//
// Payload of write number `seq` (0-based, per writer thread) of thread `tid`:
//     head = "w pid=<pid> tid=<tid> seq=<seq>"                  (text mode)
//          | "\xff\xfe\x00\x80" "pid=<pid> tid=<tid> seq=<seq>"   (-b)
//     without -s: head + "\n"
//     with -s N : exactly N bytes: head, then the padding "abc...xyzabc...",
//                 cut to N-1 bytes, then '\n' (N=0: empty write; a head
//                 longer than N-1 is cut).
// So "-s N" with N = len(head)+1 reproduces the plain line exactly.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (64LL << 20)   // -s cap: one buffer per writer thread
#define HEAD_CAP 128            // longest head is ~60 bytes
#define MAX_LINES (1LL << 40)   // keeps the "total" arithmetic far from overflow

static const char usage_text[] =
    "usage: writer [options]\n"
    "Deterministic write(2) workload: one write(2) per payload, exact bytes.\n"
    "  -t THREADS  writer threads in this process, incl. the main thread,\n"
    "              started together (0..4096, default 1)\n"
    "  -n LINES    writes per writer (thread, child, grandchild)\n"
    "              (0..1099511627776, default 10)\n"
    "  -c CHILDREN children forked after the threads finish, all running at\n"
    "              once; each writes -n payloads, then _exit(0); the parent\n"
    "              waits for them (0..100000, default 0)\n"
    "  -g          the first child also forks a grandchild writing -n payloads\n"
    "  -b          binary payloads: head is \\xff\\xfe\\x00\\x80 then identity\n"
    "  -s SIZE     payloads of exactly SIZE bytes (0..67108864): head, then\n"
    "              padding \"abc..xyzabc..\", cut to SIZE-1 bytes, then '\\n'\n"
    "  -f FD       write to this already-open fd (default 1)\n"
    "  -o PATH     open PATH (O_WRONLY|O_CREAT|O_TRUNC, 0644) and write there\n"
    "  -w MS       sleep MS milliseconds before writing (0..86400000)\n"
    "  -p US       pause US microseconds after each write (0..1000000; not in\n"
    "              the -q loop), to pace a workload below what a tracer absorbs\n"
    "  -W          wait for one line (or EOF) on stdin before writing\n"
    "              (with -w too: the stdin line first, then the sleep)\n"
    "  -e CODE     exit with CODE (0..255) on success (default 0)\n"
    "  -q N        quiet loop for benchmarks: N identical writes of -s bytes\n"
    "              (default 64, seq=0 payload) from each of the -t threads\n"
    "              (default: the main thread only), buffer built once; not\n"
    "              combinable with -n/-c/-g\n"
    "  -v IOVECS   with -q: each payload is one writev(2) of IOVECS buffers\n"
    "              (1..1024), the -s bytes split evenly (the last takes the rest)\n"
    "  -G N        syscall loop for benchmarks: N getppid(2) calls from the\n"
    "              main thread and no write but the stderr lines; not\n"
    "              combinable with -t/-n/-c/-g/-q\n"
    "  -h          this help\n"
    "Text payload: \"w pid=<pid> tid=<tid> seq=<i>\\n\", seq = 0..n-1 per writer.\n"
    "stderr: \"writer pid <pid>\" at start (before any wait), and on success\n"
    "\"writer done pid=<pid> writes=<own> total=<own+children+grandchild>\"\n"
    "(writes = this process's own writes; total adds children's, exact because\n"
    "any child failure makes writer exit 1). Exit 2: bad usage, 1: write failed.\n";

static struct {
    long long threads, lines, children, size, wait_ms, pause_us, exit_code, quiet, iovecs, getppids;
    int grandchild, binary, wait_stdin, fd;
} cfg = { .threads = 1, .lines = 10, .size = -1, .quiet = -1, .getppids = -1, .fd = 1 };

static pthread_barrier_t start_line;   // lets all threads start writing at once

static void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "writer: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    exit(2);
}

static long long parse(const char *s, long long min, long long max, const char *opt)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "writer: invalid %s value '%s' (expected %lld..%lld)\n",
                opt, s, min, max);
        exit(2);
    }
    return v;
}

// The only way payload bytes leave the process. A short write is an error,
// not something to retry: a test must see exactly one event per payload.
static int check_written(const char *call, int fd, ssize_t n, size_t len)
{
    if (n < 0) {
        fprintf(stderr, "writer: %s(fd %d, %zu bytes) failed: %s\n",
                call, fd, len, strerror(errno));
        return -1;
    }
    if ((size_t)n != len) {
        fprintf(stderr, "writer: short %s on fd %d: %zd of %zu bytes\n", call, fd, n, len);
        return -1;
    }
    return 0;
}

static int write_exact(int fd, const char *buf, size_t len)
{
    return check_written("write", fd, write(fd, buf, len), len);
}

// Writes the head (see top comment) into out; it may contain NUL (-b).
static size_t format_head(char *out, int pid, int tid, long long seq)
{
    size_t off = 0;
    if (cfg.binary) {
        memcpy(out, "\xff\xfe\x00\x80", 4);   // never valid UTF-8, includes NUL
        off = 4;
    } else {
        memcpy(out, "w ", 2);
        off = 2;
    }
    int n = snprintf(out + off, HEAD_CAP - off, "pid=%d tid=%d seq=%lld", pid, tid, seq);
    return off + (size_t)n;
}

// A writer's reusable payload buffer. With -s the padding is rebuilt only
// when the head length changes (seq gains a digit), so a large payload costs
// a ~40-byte memcpy per write rather than SIZE bytes of formatting.
struct payload {
    char *buf;
    size_t len;
    size_t head_len;   // head length the padding currently starts after
};

static int payload_init(struct payload *p)
{
    size_t cap = cfg.size >= 0 ? (size_t)cfg.size : HEAD_CAP + 1;
    p->buf = malloc(cap ? cap : 1);
    if (!p->buf) {
        fprintf(stderr, "writer: out of memory for %zu-byte payload\n", cap);
        return -1;
    }
    if (cfg.size > 0)
        p->buf[cap - 1] = '\n';
    p->len = cfg.size >= 0 ? cap : 0;
    p->head_len = (size_t)-1;   // forces the first payload_set to pad
    return 0;
}

static void payload_set(struct payload *p, int pid, int tid, long long seq)
{
    char head[HEAD_CAP];
    size_t hl = format_head(head, pid, tid, seq);
    if (cfg.size < 0) {
        memcpy(p->buf, head, hl);
        p->buf[hl] = '\n';
        p->len = hl + 1;
    } else if (cfg.size > 0) {
        size_t room = (size_t)cfg.size - 1;   // the final '\n' is kept
        if (hl != p->head_len) {
            for (size_t i = hl; i < room; i++)
                p->buf[i] = (char)('a' + (i - hl) % 26);
            p->head_len = hl;
        }
        memcpy(p->buf, head, hl < room ? hl : room);
    }
}

// One writer: -n payloads from the calling thread. Counts successful writes.
static void sleep_us(long long us)
{
    struct timespec t = { us / 1000000, (us % 1000000) * 1000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static int run_writer(long long *written)
{
    struct payload p;
    if (payload_init(&p) != 0)
        return -1;
    int pid = getpid(), tid = (int)syscall(SYS_gettid);
    int rc = 0;
    for (long long seq = 0; seq < cfg.lines; seq++) {
        payload_set(&p, pid, tid, seq);
        if (write_exact(cfg.fd, p.buf, p.len) != 0) {
            rc = -1;
            break;
        }
        (*written)++;
        if (cfg.pause_us > 0)
            sleep_us(cfg.pause_us);
    }
    free(p.buf);
    return rc;
}

// -q: the benchmark path, per writer thread. One payload built up front, then
// nothing but write(2), or with -v writev(2), and a length check per iteration.
static int run_quiet(long long *written)
{
    struct payload p;
    if (payload_init(&p) != 0)
        return -1;
    payload_set(&p, getpid(), (int)syscall(SYS_gettid), 0);
    struct iovec iov[1024];
    int iovcnt = (int)cfg.iovecs;
    size_t piece = iovcnt > 0 ? p.len / (size_t)iovcnt : 0;
    for (int i = 0; i < iovcnt; i++) {
        iov[i].iov_base = p.buf + (size_t)i * piece;
        iov[i].iov_len = i == iovcnt - 1 ? p.len - (size_t)i * piece : piece;
    }
    int rc = 0;
    for (long long i = 0; i < cfg.quiet; i++) {
        if (iovcnt > 0 ? check_written("writev", cfg.fd, writev(cfg.fd, iov, iovcnt), p.len) != 0
                       : write_exact(cfg.fd, p.buf, p.len) != 0) {
            rc = -1;
            break;
        }
        (*written)++;
    }
    free(p.buf);
    return rc;
}

// -G: the cost a tracer adds to a syscall that is not a write. getppid(2) does
// almost nothing in the kernel, and glibc passes it straight through.
static void run_getppid(void)
{
    for (long long i = 0; i < cfg.getppids; i++)
        syscall(SYS_getppid);
}

struct worker {
    pthread_t thread;
    long long written;
    int failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (cfg.threads > 1)
        pthread_barrier_wait(&start_line);
    w->failed = (cfg.quiet >= 0 ? run_quiet(&w->written) : run_writer(&w->written)) != 0;
    return NULL;
}

// Thread phase: worker 0 is the main thread itself, so -t 1 is a plain
// single-threaded process (tid == pid) and -t N adds N-1 threads.
static int run_threads(long long *written)
{
    if (cfg.threads == 0)
        return 0;
    struct worker *w = calloc((size_t)cfg.threads, sizeof *w);
    if (!w) {
        fprintf(stderr, "writer: out of memory\n");
        return -1;
    }
    if (cfg.threads > 1)
        pthread_barrier_init(&start_line, NULL, (unsigned)cfg.threads);
    for (long long i = 1; i < cfg.threads; i++) {
        int err = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
        if (err) {
            // Others wait at the barrier forever; exiting ends them too.
            fprintf(stderr, "writer: pthread_create: %s\n", strerror(err));
            exit(1);
        }
    }
    worker_main(&w[0]);
    int rc = 0;
    for (long long i = 0; i < cfg.threads; i++) {
        if (i > 0)
            pthread_join(w[i].thread, NULL);
        *written += w[i].written;
        if (w[i].failed)
            rc = -1;
    }
    if (cfg.threads > 1)
        pthread_barrier_destroy(&start_line);
    free(w);
    return rc;
}

// Returns 0 if pid exited with status 0, else reports and returns -1.
static int reap(pid_t pid, const char *what)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "writer: waitpid %s %d: %s\n", what, (int)pid, strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "writer: %s %d failed (status 0x%x)\n", what, (int)pid, status);
    return -1;
}

// Body of a forked child. Children leave with _exit so nothing inherited
// from the parent (atexit handlers, stdio buffers) runs or writes twice.
static void child_main(int first)
{
    long long written = 0;
    pid_t grandchild = -1;
    if (first && cfg.grandchild) {
        // Forked before the child's own writes so the two overlap: the tracer
        // must follow a grandchild whose parent is itself short-lived.
        grandchild = fork();
        if (grandchild == 0)
            _exit(run_writer(&written) == 0 ? 0 : 1);
        if (grandchild < 0) {
            fprintf(stderr, "writer: fork grandchild: %s\n", strerror(errno));
            _exit(1);
        }
    }
    int rc = run_writer(&written);
    if (grandchild > 0 && reap(grandchild, "grandchild") != 0)
        rc = -1;
    _exit(rc == 0 ? 0 : 1);
}

static int run_children(void)
{
    if (cfg.children == 0)
        return 0;
    pid_t *pids = calloc((size_t)cfg.children, sizeof *pids);
    if (!pids) {
        fprintf(stderr, "writer: out of memory\n");
        return -1;
    }
    int rc = 0;
    long long forked = 0;
    for (; forked < cfg.children; forked++) {
        pid_t pid = fork();
        if (pid == 0)
            child_main(forked == 0);
        if (pid < 0) {
            fprintf(stderr, "writer: fork: %s\n", strerror(errno));
            rc = -1;
            break;
        }
        pids[forked] = pid;
    }
    for (long long i = 0; i < forked; i++)
        if (reap(pids[i], "child") != 0)
            rc = -1;
    free(pids);
    return rc;
}

static void wait_before_start(void)
{
    if (cfg.wait_stdin) {
        char c;
        ssize_t n;
        while ((n = read(STDIN_FILENO, &c, 1)) == 1 && c != '\n')
            ;
        if (n < 0) {
            fprintf(stderr, "writer: reading stdin: %s\n", strerror(errno));
            exit(1);
        }
    }
    if (cfg.wait_ms > 0)
        sleep_us(cfg.wait_ms * 1000);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int fd_given = 0, workload_given = 0, threads_given = 0;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:c:gbs:f:o:w:p:We:q:v:G:h")) != -1) {
        switch (opt) {
        case 't': cfg.threads = parse(optarg, 0, 4096, "-t"); threads_given = 1; break;
        case 'n': cfg.lines = parse(optarg, 0, MAX_LINES, "-n"); workload_given = 1; break;
        case 'c': cfg.children = parse(optarg, 0, 100000, "-c"); workload_given = 1; break;
        case 'g': cfg.grandchild = 1; workload_given = 1; break;
        case 'b': cfg.binary = 1; break;
        case 's': cfg.size = parse(optarg, 0, MAX_SIZE, "-s"); break;
        case 'f': cfg.fd = (int)parse(optarg, 0, INT_MAX, "-f"); fd_given = 1; break;
        case 'o': path = optarg; break;
        case 'w': cfg.wait_ms = parse(optarg, 0, 86400000, "-w"); break;
        case 'p': cfg.pause_us = parse(optarg, 0, 1000000, "-p"); break;
        case 'W': cfg.wait_stdin = 1; break;
        case 'e': cfg.exit_code = parse(optarg, 0, 255, "-e"); break;
        case 'q': cfg.quiet = parse(optarg, 0, MAX_LINES, "-q"); break;
        case 'v': cfg.iovecs = parse(optarg, 1, 1024, "-v"); break;
        case 'G': cfg.getppids = parse(optarg, 0, LLONG_MAX, "-G"); break;
        case 'h': fputs(usage_text, stdout); return 0;
        default:  fputs(usage_text, stderr); return 2;   // getopt printed why
        }
    }
    if (optind < argc)
        die_usage("unexpected argument '%s'", argv[optind]);
    if (path && fd_given)
        die_usage("%s", "-o and -f are mutually exclusive");
    if (cfg.grandchild && cfg.children == 0)
        die_usage("%s", "-g needs at least one child (-c 1 or more)");
    if (cfg.quiet >= 0 && workload_given)
        die_usage("%s", "-q cannot be combined with -n, -c or -g");
    if (cfg.getppids >= 0 && (workload_given || threads_given || cfg.quiet >= 0))
        die_usage("%s", "-G cannot be combined with -t, -n, -c, -g or -q");
    if (cfg.iovecs > 0 && cfg.quiet < 0)
        die_usage("%s", "-v needs the quiet loop (-q N)");
    if (cfg.quiet >= 0 && cfg.size < 0)
        cfg.size = 64;

    if (path) {
        cfg.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (cfg.fd < 0) {
            fprintf(stderr, "writer: cannot open '%s': %s\n", path, strerror(errno));
            return 2;
        }
    } else if (fcntl(cfg.fd, F_GETFL) < 0) {
        fprintf(stderr, "writer: -f %d: fd is not open\n", cfg.fd);
        return 2;
    }

    // Announce the pid first, as one write, so a harness can register it
    // with the tracer while we wait (-w / -W).
    char line[160];
    int pid = getpid();
    int len = snprintf(line, sizeof line, "writer pid %d\n", pid);
    if (write_exact(STDERR_FILENO, line, (size_t)len) != 0)
        return 1;
    wait_before_start();

    long long own = 0, total;
    if (cfg.getppids >= 0) {
        run_getppid();
        total = own;
    } else if (cfg.quiet >= 0) {
        if (run_threads(&own) != 0)
            return 1;
        total = own;
    } else {
        if (run_threads(&own) != 0)
            return 1;
        if (run_children() != 0)
            return 1;
        // Children and the grandchild either wrote all -n payloads or made
        // run_children fail, so their share is known without reporting back.
        total = own + cfg.lines * (cfg.children + cfg.grandchild);
    }

    len = snprintf(line, sizeof line, "writer done pid=%d writes=%lld total=%lld\n",
                   pid, own, total);
    if (write_exact(STDERR_FILENO, line, (size_t)len) != 0)
        return 1;
    return (int)cfg.exit_code;
}
