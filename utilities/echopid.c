// echopid — a demo target for write-tracer.
//
// Prints "echopid <pid> started", then one line per interval:
//     echopid <pid> tick <n> <HH:MM:SS>
// Every line is exactly one write(2) to stdout (no stdio buffering), so each
// line is exactly one event in the tracer. Runs until SIGINT/SIGTERM (exit 0)
// or until an optional number of ticks has been printed.
//
// usage: echopid [INTERVAL_MS [COUNT]]
//     INTERVAL_MS  time between ticks, 1..86400000 (default 1000)
//     COUNT        ticks to print before exiting, 0 = forever (default 0)

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: echopid [INTERVAL_MS [COUNT]]\n"
          "  INTERVAL_MS  1..86400000, default 1000\n"
          "  COUNT        ticks before exit, 0 = forever (default)\n", f);
}

static void usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "echopid: %s '%s'\n", msg, arg);
    usage(stderr);
    exit(2);
}

static long long parse(const char *s, long long min, long long max, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        usage_error(what, s);
    return v;
}

// One line, one write(2). Returns 0, or -1 after reporting the error.
static int write_line(const char *buf, size_t len)
{
    ssize_t n;
    do {
        n = write(STDOUT_FILENO, buf, len);
    } while (n < 0 && errno == EINTR);   // no handlers are installed, but be safe
    if (n < 0) {
        fprintf(stderr, "echopid: write failed: %s\n", strerror(errno));
        return -1;
    }
    if ((size_t)n != len) {
        fprintf(stderr, "echopid: short write: %zd of %zu bytes\n", n, len);
        return -1;
    }
    return 0;
}

static void timespec_add_ms(struct timespec *t, long long ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 3)
        usage_error("too many arguments, first extra is", argv[3]);
    long long interval_ms = argc > 1 ? parse(argv[1], 1, 86400000, "invalid INTERVAL_MS") : 1000;
    long long count = argc > 2 ? parse(argv[2], 0, 1LL << 62, "invalid COUNT") : 0;

    // Block SIGINT/SIGTERM and receive them with sigtimedwait() instead of a
    // handler: sleeping and waiting for a signal become one call, so there is
    // no window where a signal arrives between "check flag" and "sleep".
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) != 0) {
        perror("echopid: sigprocmask");
        return 1;
    }

    const int pid = (int)getpid();
    char line[128];
    int len = snprintf(line, sizeof line, "echopid %d started\n", pid);
    if (write_line(line, (size_t)len) != 0)
        return 1;

    // Deadlines are absolute on CLOCK_MONOTONIC so ticks do not drift by the
    // time spent writing, and wall-clock jumps do not disturb the cadence.
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);

    for (long long tick = 1; count == 0 || tick <= count; tick++) {
        timespec_add_ms(&deadline, interval_ms);
        for (;;) {
            struct timespec now, left;
            clock_gettime(CLOCK_MONOTONIC, &now);
            left.tv_sec = deadline.tv_sec - now.tv_sec;
            left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
            if (left.tv_nsec < 0) {
                left.tv_sec--;
                left.tv_nsec += 1000000000L;
            }
            if (left.tv_sec < 0)
                break;                              // deadline already passed
            if (sigtimedwait(&stop, NULL, &left) > 0)
                return 0;                           // SIGINT/SIGTERM: clean exit
            if (errno == EAGAIN)
                break;                              // timed out: time to tick
            // EINTR (e.g. SIGCONT after SIGSTOP): recompute and wait again
        }

        time_t wall = time(NULL);
        struct tm tm;
        localtime_r(&wall, &tm);
        len = snprintf(line, sizeof line, "echopid %d tick %lld %02d:%02d:%02d\n",
                       pid, tick, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (write_line(line, (size_t)len) != 0)
            return 1;
    }
    return 0;
}
