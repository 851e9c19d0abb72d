"""Client for the write-tracer REST API, using only the Python standard library.

    from writetracer import WriteTracer

    tracer = WriteTracer()                      # $WRITE_TRACER_SOCKET, else http://127.0.0.1:9092
    tracer.register(12345)                      # {'pid': 12345, 'thread_count': 4, 'message': ...}
    tracer.list()                               # [{'pid': 12345, 'thread_count': 4, ...}]
    tracer.unregister(12345)

    with WriteTracer().tracing():               # this process, its threads and children
        run_the_job()

tracing() registers the calling process as the kernel reports it (POST /pids/self), so it
needs no pid: over the Unix socket it works unchanged from inside a container or another
pid namespace. The tracer lets a caller trace only what it could strace (its own processes)
unless it is root or holds the token.

Also a command line: python3 writetracer.py [--url URL | --socket PATH] [--token-file PATH]
{register PID | register-parent | unregister PID | list | health}; register-parent registers
the shell that runs it (a job script's).
"""

import argparse
import contextlib
import http.client
import json
import os
import socket
import sys
import urllib.parse

__all__ = ["WriteTracer", "WriteTracerError"]

DEFAULT_URL = "http://127.0.0.1:9092"
SOCKET_VARIABLE = "WRITE_TRACER_SOCKET"


class WriteTracerError(Exception):
    """The API refused a request: status is the HTTP code, message the API's sentence."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (write-tracer --rest-socket PATH)."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class WriteTracer:
    """A running write-tracer's REST API, over TCP (url) or a Unix socket (unix_socket).

    With neither, the socket named by $WRITE_TRACER_SOCKET when it is set, else DEFAULT_URL.
    token (or token_file, whose content is the token) is sent as
    'Authorization: Bearer TOKEN' when the tracer runs with --api-token-file.
    """

    def __init__(self, url=None, *, unix_socket=None, token=None, token_file=None, timeout=10.0):
        if url is None and unix_socket is None:
            unix_socket = os.environ.get(SOCKET_VARIABLE) or None
        url = DEFAULT_URL if url is None else url
        if token_file is not None:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        parsed = urllib.parse.urlsplit(url)
        if unix_socket is None and (parsed.scheme != "http" or not parsed.hostname):
            raise ValueError(f"not an http:// URL: {url}")
        self._host = parsed.hostname
        self._port = parsed.port or 80
        self._unix_socket = unix_socket
        self._token = token
        self._timeout = timeout

    def register(self, pid):
        """Starts tracing pid with its threads and descendants; returns {'pid', 'thread_count', 'message'}
        (and 'threads', the same count under its deprecated name)."""
        return self._request("POST", "/pids", {"pid": pid})

    def register_self(self):
        """Starts tracing the calling process (as the kernel identifies it); returns the registration,
        whose 'pid' is the process's pid in the tracer's namespace and 'ns_pid' (when the caller is in
        another pid namespace) its pid here."""
        return self._request("POST", "/pids/self")

    def register_parent(self):
        """Starts tracing the calling process's parent (the shell that runs this program)."""
        return self._request("POST", "/pids/parent")

    def unregister(self, pid):
        """Stops tracing pid and all its descendants; returns {'message'}."""
        return self._request("DELETE", f"/pids/{int(pid)}")

    def list(self):
        """The registered processes: [{'pid', 'thread_count', 'process_count', 'registered_at'}]."""
        return self._request("GET", "/pids")["processes"]

    def get(self, pid):
        """One registered process, as in list(); WriteTracerError 404 when it is not registered."""
        return self._request("GET", f"/pids/{int(pid)}")

    def healthy(self):
        """True while the tracer reads events."""
        try:
            self._request("GET", "/healthz")
            return True
        except WriteTracerError:
            return False

    @contextlib.contextmanager
    def tracing(self, pid=None):
        """Traces pid (default: this process, POST /pids/self) inside the block, and stops at its end.

        A process that exited meanwhile is already unregistered: that is not an error.
        """
        registration = self.register_self() if pid is None else self.register(pid)
        try:
            yield registration
        finally:
            try:
                self.unregister(registration["pid"])
            except WriteTracerError as e:
                if e.status != 404:
                    raise

    def _request(self, method, path, body=None):
        if self._unix_socket is not None:
            connection = _UnixConnection(self._unix_socket, self._timeout)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        try:
            content = json.loads(payload) if payload else {}
        except ValueError:
            content = {"error": payload.decode("utf-8", "replace")}
        if response.status >= 400:
            raise WriteTracerError(response.status, content.get("error", response.reason))
        return content


def main(argv=None):
    parser = argparse.ArgumentParser(description="Talk to a running write-tracer's REST API.")
    parser.add_argument("--url", help=f"the API's URL (default: ${SOCKET_VARIABLE} when set, else {DEFAULT_URL})")
    parser.add_argument("--socket", help="the API's Unix socket (--rest-socket), instead of --url")
    parser.add_argument("--token-file", help="file holding the bearer token (--api-token-file)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("register", "unregister"):
        commands.add_parser(name).add_argument("pid", type=int)
    commands.add_parser("register-parent")
    commands.add_parser("list")
    commands.add_parser("health")
    args = parser.parse_args(argv)

    tracer = WriteTracer(args.url, unix_socket=args.socket, token_file=args.token_file)
    try:
        if args.command == "register":
            result = tracer.register(args.pid)
        elif args.command == "register-parent":
            result = tracer.register_parent()
        elif args.command == "unregister":
            result = tracer.unregister(args.pid)
        elif args.command == "list":
            result = tracer.list()
        else:
            result = {"healthy": tracer.healthy()}
    except WriteTracerError as e:
        print(f"write-tracer: {e.message} (HTTP {e.status})", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"write-tracer: cannot reach the API: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
