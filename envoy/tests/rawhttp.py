"""A raw HTTP/1.1 client for hostile requests: any bytes in the path and headers, repeated
headers in the order given, several requests on one connection (one Envoy worker)."""

import socket


def build(method, path, headers):
    """`path` and header values may be bytes or str; headers is a list of (name, value)."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("latin-1")
    lines = [b(method) + b" " + b(path) + b" HTTP/1.1", b"Host: e2e.local"]
    lines += [b(k) + b": " + b(v) for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _read_response(f):
    status_line = f.readline()
    if not status_line:
        return 0, {}, b""
    parts = status_line.split(b" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = b""
    if "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().strip() or b"0", 16)
            if size == 0:
                f.readline()
                break
            body += f.read(size)
            f.readline()
    return status, headers, body


class Connection:
    """One keep-alive connection: requests on it reach the same Envoy worker."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, method, path, headers=()):
        try:
            self.sock.sendall(build(method, path, list(headers)))
            return _read_response(self.file)
        except (OSError, ValueError, IndexError):
            return 0, {}, b""

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


def request(port, method, path, headers=()):
    """One request on its own connection: (status, headers, body); status 0 if the
    connection failed or closed without an answer."""
    c = Connection(port)
    try:
        return c.send(method, path, headers)
    finally:
        c.close()
