"""Loopback ports for the harnesses that start Envoy (envoy/tests/e2e.py, bench/envoy.py)."""
import socket

_issued_ports = set()


def free_port():
    """A loopback port free now and not handed out before in this run: the kernel may give a
    just-released ephemeral port again, and two listeners of one Envoy on the same port fail
    its start ("Address already in use")."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _issued_ports:
            _issued_ports.add(port)
            return port
