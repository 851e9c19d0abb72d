/*
 * A minimal client for write-tracer's REST API: POST /pids and DELETE /pids/N
 * over HTTP/1.1, on TCP or a Unix socket, with one hard deadline per request.
 * Plain POSIX sockets and no Slurm dependency, so the SPANK plugin stays small
 * and tests can drive the same code.
 */
#ifndef WRITE_TRACER_CLIENT_H
#define WRITE_TRACER_CLIENT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * slurmstepd loads many plugins into one process: only the SPANK entry points
 * are exported, so these names can never clash with another plugin's.
 */
#define TRACER_INTERNAL __attribute__((visibility("hidden")))

#define TRACER_DEFAULT_URL "http://127.0.0.1:9092"
#define TRACER_DEFAULT_TIMEOUT_MS 2000
#define TRACER_MAX_TIMEOUT_MS 60000
#define TRACER_TOKEN_MAX 1024

/* The plugin's arguments from plugstack.conf, validated. */
struct tracer_config {
    struct sockaddr_storage address; /* AF_INET, AF_INET6 or AF_UNIX */
    socklen_t address_length;
    char host_header[64];          /* "127.0.0.1:9092", "[::1]:9092"; "localhost" on a Unix socket */
    char endpoint[128];            /* where requests go, for messages */
    char token[TRACER_TOKEN_MAX + 1]; /* empty: no Authorization header */
    int timeout_ms;                /* budget of one whole request: connect, send, receive */
    int required;                  /* a failed registration fails the task */
};

/* What one request got back. */
struct tracer_reply {
    int status;       /* the HTTP status; 0 when no response came */
    char detail[256]; /* the response body (printable ASCII, cut), or what went wrong */
};

/*
 * Parses arguments of the form key=value: url=, socket=, token_file=,
 * required=0|1, timeout=MS. Returns 0, or -1 with a one-line message in error.
 */
TRACER_INTERNAL int tracer_config_parse(struct tracer_config *config, int argc, char **argv,
                                        char *error, size_t error_size);

/*
 * Each returns 0 when the tracer answered (reply->status says how), or -1 when
 * no answer came within the deadline (reply->detail says why).
 */
TRACER_INTERNAL int tracer_register(const struct tracer_config *config, pid_t pid,
                                    struct tracer_reply *reply);
TRACER_INTERNAL int tracer_unregister(const struct tracer_config *config, pid_t pid,
                                      struct tracer_reply *reply);

#endif
