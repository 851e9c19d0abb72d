/* See tracer_client.h. */
#define _GNU_SOURCE
#include "tracer_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The tracer's answers are short JSON objects; anything past this is cut. */
#define RESPONSE_MAX 4096

static int fail(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *error, size_t error_size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
    return -1;
}

static const char *value_of(const char *argument, const char *key)
{
    size_t length = strlen(key);
    return strncmp(argument, key, length) == 0 ? argument + length : NULL;
}

/* A decimal integer in [min, max] and nothing else; -1 otherwise. */
static long parse_number(const char *text, long min, long max)
{
    if (!isdigit((unsigned char)text[0]))
        return -1;
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    return value;
}

static int parse_url(struct tracer_config *config, const char *url, char *error, size_t error_size)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return fail(error, error_size,
                    "url=%s: expected http://ADDRESS:PORT (the API is plain HTTP on this host)", url);
    const char *host = url + sizeof scheme - 1;
    const char *host_end;
    const char *rest;
    int bracketed = host[0] == '[';
    if (bracketed) {
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return fail(error, error_size, "url=%s: '[' without ']'", url);
        host++;
        rest = host_end + 1;
    } else {
        host_end = host + strcspn(host, ":/");
        rest = host_end;
    }
    char address[INET6_ADDRSTRLEN];
    size_t host_length = (size_t)(host_end - host);
    if (host_length == 0 || host_length >= sizeof address)
        return fail(error, error_size, "url=%s: no valid address", url);
    memcpy(address, host, host_length);
    address[host_length] = '\0';

    long port = 80;
    if (*rest == ':') {
        char digits[8] = "";
        size_t digits_length = strcspn(rest + 1, "/");
        if (digits_length < sizeof digits) {
            memcpy(digits, rest + 1, digits_length);
            digits[digits_length] = '\0';
        }
        port = parse_number(digits, 1, 65535);
        if (port < 0)
            return fail(error, error_size, "url=%s: the port is not a number from 1 to 65535", url);
        rest += 1 + digits_length;
    }
    if (*rest == '/')
        rest++;
    if (*rest != '\0')
        return fail(error, error_size, "url=%s: give no path, the API is at the root", url);

    if (strcmp(address, "localhost") == 0)
        strcpy(address, "127.0.0.1");
    memset(&config->address, 0, sizeof config->address);
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)&config->address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&config->address;
    if (!bracketed && inet_pton(AF_INET, address, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons((uint16_t)port);
        config->address_length = sizeof *ipv4;
        snprintf(config->host_header, sizeof config->host_header, "%s:%ld", address, port);
    } else if (bracketed && inet_pton(AF_INET6, address, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons((uint16_t)port);
        config->address_length = sizeof *ipv6;
        snprintf(config->host_header, sizeof config->host_header, "[%s]:%ld", address, port);
    } else {
        /* Resolving a name could stall every task launch behind a slow DNS server. */
        return fail(error, error_size,
                    "url=%s: '%s' is not an IP address (IPv6 in brackets); host names are not resolved",
                    url, address);
    }
    snprintf(config->endpoint, sizeof config->endpoint, "%s", config->host_header);
    return 0;
}

static int parse_socket(struct tracer_config *config, const char *path, char *error, size_t error_size)
{
    struct sockaddr_un *unix_address = (struct sockaddr_un *)&config->address;
    if (path[0] != '/')
        return fail(error, error_size, "socket=%s: expected an absolute path", path);
    if (strlen(path) >= sizeof unix_address->sun_path)
        return fail(error, error_size, "socket=%s: longer than %zu bytes", path,
                    sizeof unix_address->sun_path - 1);
    memset(&config->address, 0, sizeof config->address);
    unix_address->sun_family = AF_UNIX;
    strcpy(unix_address->sun_path, path);
    config->address_length = sizeof *unix_address;
    snprintf(config->host_header, sizeof config->host_header, "localhost");
    snprintf(config->endpoint, sizeof config->endpoint, "unix:%s", path);
    return 0;
}

/* The token goes into a header line: one line of visible ASCII, nothing else. */
static int read_token(struct tracer_config *config, const char *path, char *error, size_t error_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(error, error_size, "token_file=%s: %m", path);
    char *token = config->token;
    size_t length = 0;
    for (;;) {
        ssize_t n = read(fd, token + length, TRACER_TOKEN_MAX + 1 - length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return fail(error, error_size, "token_file=%s: %m", path);
        }
        length += (size_t)n;
        if (n == 0 || length > TRACER_TOKEN_MAX)
            break;
    }
    close(fd);
    if (length > TRACER_TOKEN_MAX)
        return fail(error, error_size, "token_file=%s: longer than %d bytes", path, TRACER_TOKEN_MAX);
    while (length > 0 && isspace((unsigned char)token[length - 1]))
        length--;
    token[length] = '\0';
    if (length == 0)
        return fail(error, error_size, "token_file=%s: the file is empty", path);
    for (size_t i = 0; i < length; i++) {
        if (token[i] < 0x21 || token[i] > 0x7e)
            return fail(error, error_size,
                        "token_file=%s: the token must be one line of visible ASCII characters", path);
    }
    return 0;
}

int tracer_config_parse(struct tracer_config *config, int argc, char **argv, char *error, size_t error_size)
{
    memset(config, 0, sizeof *config);
    config->timeout_ms = TRACER_DEFAULT_TIMEOUT_MS;
    const char *url = NULL, *socket_path = NULL, *token_file = NULL;
    int required_given = 0, timeout_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *argument = argv[i], *value;
        int duplicate = 0;
        if ((value = value_of(argument, "url=")) != NULL) {
            duplicate = url != NULL;
            url = value;
        } else if ((value = value_of(argument, "socket=")) != NULL) {
            duplicate = socket_path != NULL;
            socket_path = value;
        } else if ((value = value_of(argument, "token_file=")) != NULL) {
            duplicate = token_file != NULL;
            token_file = value;
        } else if ((value = value_of(argument, "required=")) != NULL) {
            duplicate = required_given++;
            config->required = (int)parse_number(value, 0, 1);
            if (config->required < 0)
                return fail(error, error_size, "required=%s: expected 0 or 1", value);
        } else if ((value = value_of(argument, "timeout=")) != NULL) {
            duplicate = timeout_given++;
            config->timeout_ms = (int)parse_number(value, 1, TRACER_MAX_TIMEOUT_MS);
            if (config->timeout_ms < 0)
                return fail(error, error_size, "timeout=%s: expected milliseconds from 1 to %d", value,
                            TRACER_MAX_TIMEOUT_MS);
        } else {
            return fail(error, error_size,
                        "unknown argument '%s' (expected url=, socket=, token_file=, required= or timeout=)",
                        argument);
        }
        if (duplicate)
            return fail(error, error_size, "'%s': this argument is given twice", argument);
    }
    if (url != NULL && socket_path != NULL)
        return fail(error, error_size, "url= and socket= exclude each other: give one");
    int result = socket_path != NULL ? parse_socket(config, socket_path, error, error_size)
                                     : parse_url(config, url != NULL ? url : TRACER_DEFAULT_URL, error, error_size);
    if (result == 0 && token_file != NULL)
        result = read_token(config, token_file, error, error_size);
    return result;
}

static void describe(struct tracer_reply *reply, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void describe(struct tracer_reply *reply, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(reply->detail, sizeof reply->detail, format, args);
    va_end(args);
}

static long long now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/* 1 when fd is ready (or has an error to report), 0 at the deadline, -1 on failure. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd poll_fd = {.fd = fd, .events = events};
        int ready = poll(&poll_fd, 1, (int)left);
        if (ready > 0)
            return 1;
        if (ready < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_before(const struct tracer_config *config, long long deadline, struct tracer_reply *reply)
{
    int fd = socket(config->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        describe(reply, "connect to %s: %m", config->endpoint);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&config->address, config->address_length) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        describe(reply, "connect to %s: %m", config->endpoint);
        close(fd);
        return -1;
    }
    int ready = wait_for(fd, POLLOUT, deadline);
    int failure = 0;
    socklen_t failure_size = sizeof failure;
    if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &failure_size) == 0 && failure == 0)
        return fd;
    if (ready == 0)
        describe(reply, "connect to %s: no answer within %d ms", config->endpoint, config->timeout_ms);
    else {
        errno = failure != 0 ? failure : errno;
        describe(reply, "connect to %s: %m", config->endpoint);
    }
    close(fd);
    return -1;
}

/* 1 when all is sent, 0 at the deadline, -1 on failure (errno set). */
static int send_before(int fd, const char *data, size_t length, long long deadline)
{
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL); /* a closed peer must not raise SIGPIPE in slurmstepd */
        if (sent >= 0) {
            data += sent;
            length -= (size_t)sent;
        } else if (errno == EAGAIN) {
            int ready = wait_for(fd, POLLOUT, deadline);
            if (ready != 1)
                return ready;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 1;
}

/*
 * Reads until the tracer closes the connection (we asked it to), the buffer is
 * full, or the deadline; sets *timed_out in the last case.
 */
static size_t receive_before(int fd, char *buffer, size_t size, long long deadline, int *timed_out)
{
    size_t used = 0;
    *timed_out = 0;
    while (used < size - 1) {
        ssize_t received = recv(fd, buffer + used, size - 1 - used, 0);
        if (received > 0) {
            used += (size_t)received;
        } else if (received == 0) {
            break;
        } else if (errno == EAGAIN) {
            int ready = wait_for(fd, POLLIN, deadline);
            *timed_out = ready == 0;
            if (ready != 1)
                break;
        } else if (errno != EINTR) {
            break;
        }
    }
    buffer[used] = '\0';
    return used;
}

/* "HTTP/1.x NNN": the status, or 0 when the text does not start with a status line. */
static int status_of(const char *response)
{
    if (strncmp(response, "HTTP/1.", 7) != 0 || (response[7] != '0' && response[7] != '1') || response[8] != ' ')
        return 0;
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)response[i]))
            return 0;
    }
    int status = (response[9] - '0') * 100 + (response[10] - '0') * 10 + (response[11] - '0');
    return status >= 100 && (response[12] == ' ' || response[12] == '\r') ? status : 0;
}

/* The JSON object of the body (so chunked framing drops out), or the whole body, as printable ASCII. */
static void keep_body(struct tracer_reply *reply, const char *response)
{
    const char *body = strstr(response, "\r\n\r\n");
    body = body != NULL ? body + 4 : "";
    const char *start = strchr(body, '{'), *end = strrchr(body, '}');
    if (start == NULL || end == NULL || end < start) {
        start = body;
        end = body + strlen(body);
    } else {
        end++;
    }
    size_t length = 0;
    for (const char *c = start; c < end && length < sizeof reply->detail - 1; c++)
        reply->detail[length++] = *c >= 0x20 && *c <= 0x7e ? *c : ' ';
    reply->detail[length] = '\0';
}

static int request(const struct tracer_config *config, const char *method, const char *path, const char *body,
                   struct tracer_reply *reply)
{
    reply->status = 0;
    reply->detail[0] = '\0';
    /* Room for the token and at most ~300 bytes of request line, other headers and body. */
    char message[TRACER_TOKEN_MAX + 512];
    size_t length = (size_t)snprintf(message, sizeof message,
                                     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: spank-write-tracer\r\n"
                                     "Connection: close\r\n",
                                     method, path, config->host_header);
    if (config->token[0] != '\0')
        length += (size_t)snprintf(message + length, sizeof message - length, "Authorization: Bearer %s\r\n",
                                   config->token);
    if (body != NULL)
        length += (size_t)snprintf(message + length, sizeof message - length,
                                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                   strlen(body), body);
    else
        length += (size_t)snprintf(message + length, sizeof message - length, "\r\n");

    long long deadline = now_ms() + config->timeout_ms;
    int fd = connect_before(config, deadline, reply);
    if (fd < 0)
        return -1;
    int sent = send_before(fd, message, length, deadline);
    if (sent != 1) {
        if (sent == 0)
            describe(reply, "send to %s: no progress within %d ms", config->endpoint, config->timeout_ms);
        else
            describe(reply, "send to %s: %m", config->endpoint);
        close(fd);
        return -1;
    }
    char response[RESPONSE_MAX];
    int timed_out;
    size_t received = receive_before(fd, response, sizeof response, deadline, &timed_out);
    close(fd);
    /* A NUL in the body would hide what follows it from the string functions below. */
    for (size_t i = 0; i < received; i++)
        response[i] = response[i] == '\0' ? ' ' : response[i];
    reply->status = status_of(response);
    if (reply->status == 0) {
        if (timed_out)
            describe(reply, "no response from %s within %d ms", config->endpoint, config->timeout_ms);
        else if (received == 0)
            describe(reply, "%s closed the connection without a response", config->endpoint);
        else
            describe(reply, "%s did not answer with HTTP/1.x", config->endpoint);
        return -1;
    }
    keep_body(reply, response);
    return 0;
}

int tracer_register(const struct tracer_config *config, pid_t pid, struct tracer_reply *reply)
{
    char body[32];
    snprintf(body, sizeof body, "{\"pid\":%d}", (int)pid);
    return request(config, "POST", "/pids", body, reply);
}

int tracer_unregister(const struct tracer_config *config, pid_t pid, struct tracer_reply *reply)
{
    char path[32];
    snprintf(path, sizeof path, "/pids/%d", (int)pid);
    return request(config, "DELETE", path, NULL, reply);
}
