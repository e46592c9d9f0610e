"""A second host on this machine, in a network namespace, whose link to the databases we can cut.

The app under test runs inside the namespace and reaches PostgreSQL and Redis through forwarders
on the host's side of a veth pair. A blackhole route in the namespace then drops every packet it
sends there, as a dead network does: nothing is refused and nothing is acknowledged, which a
user-space proxy cannot imitate (its kernel would acknowledge the bytes). The browser tests'
pattern applies: on a developer machine without root or `ip`, the tests skip loudly; with
CI=true they fail.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def namespaces_available() -> str | None:
    """None when network namespaces can be made here, else why not."""
    if shutil.which("ip") is None:
        return "the `ip` command (Debian's iproute2) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root"
    return None


def require_namespaces() -> None:
    """Skip loudly on a developer machine without them; fail in CI."""
    reason = namespaces_available()
    if reason is None:
        return
    message = f"Fault tests need a network namespace, but {reason}."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


class IsolatedHost:
    """A network namespace joined to this host by a veth pair on a /30 of its own."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 10000}{random.randrange(100, 999)}"
        self.name = f"donate-fault-{tag}"
        self._outer = f"dfo{tag}"
        self._inner = f"dfi{tag}"
        subnet = random.randrange(1, 254)
        self.host_ip = f"10.231.{subnet}.1"
        self.inner_ip = f"10.231.{subnet}.2"
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self._outer, "type", "veth", "peer", "name", self._inner)
            _ip("link", "set", self._inner, "netns", self.name)
            _ip("addr", "add", f"{self.host_ip}/30", "dev", self._outer)
            _ip("link", "set", self._outer, "up")
            self._inside("addr", "add", f"{self.inner_ip}/30", "dev", self._inner)
            self._inside("link", "set", self._inner, "up")
            self._inside("link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def _inside(self, *args: str) -> None:
        _ip("netns", "exec", self.name, "ip", *args)

    def command(self, argv: list[str]) -> list[str]:
        """argv run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def black_hole(self) -> None:
        """Drop every packet the namespace sends to this host, without a word."""
        self._inside("route", "add", "blackhole", f"{self.host_ip}/32")

    def heal(self) -> None:
        self._inside("route", "del", "blackhole", f"{self.host_ip}/32")

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "link", "del", self._outer], capture_output=True)


class Forwarder:
    """Relay TCP connections from a local address to a local service, each after an optional
    pause (a service slow to answer)."""

    def __init__(self, listen_ip: str, target_port: int, *, pause: float = 0.0) -> None:
        self.target_port = target_port
        self.pause = pause
        self._server = socket.create_server((listen_ip, 0))
        self.port = self._server.getsockname()[1]
        self.url = f"http://{listen_ip}:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        time.sleep(self.pause)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed = True
        self._server.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP to a server listening on a Unix socket, which needs no route into the namespace."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


@contextmanager
def isolated_host() -> Iterator[IsolatedHost]:
    require_namespaces()
    host = IsolatedHost()
    try:
        yield host
    finally:
        host.close()
