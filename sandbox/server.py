"""Assemble the sandbox (state, delivery thread, Flask app) and run it on a loopback port."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, redirect
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from sandbox import api, controls, pages, simulation
from sandbox.delivery import Deliverer, RetryPolicy
from sandbox.errors import StripeError
from sandbox.store import Store

log = logging.getLogger("sandbox")
SWEEP_INTERVAL = 5.0


@dataclass
class Sandbox:
    """The running parts the routes share: state, webhook delivery, timers, public URL."""

    store: Store
    deliverer: Deliverer
    public_url: str = ""
    # Seconds before a delayed (bank debit) payment settles by itself; None waits for a control.
    async_delay: float | None = 5.0
    _timers: list[threading.Timer] = field(default_factory=list)
    _last_sweep: float = 0.0

    def settle_later(self, session_id: str) -> None:
        """Settle a delayed payment successfully after `async_delay` seconds."""
        if self.async_delay is None:
            return
        timer = threading.Timer(self.async_delay, self._settle, args=(session_id,))
        timer.daemon = True
        self._timers = [kept for kept in self._timers if kept.is_alive()] + [timer]
        timer.start()

    def _settle(self, session_id: str) -> None:
        """Settle on a timer thread; a session settled meanwhile by the control is left alone."""
        self.store.use_clock()
        with self.store.change():
            account = self.store.owner(session_id)
            session = account.get("checkout.session", session_id) if account else None
            if account is None or session is None:
                return
            try:
                simulation.settle_delayed_payment(account, session, succeeded=True)
            except StripeError as error:
                log.info("delayed payment of %s not settled: %s", session_id, error.message)

    def sweep(self) -> None:
        """Expire what simulated time has made overdue, in every account."""
        self.store.use_clock()
        with self.store.change():
            for account in self.store.accounts():
                simulation.expire_overdue_objects(account)

    def sweep_now_and_then(self) -> None:
        """Sweep at most every few seconds, so requests stay cheap."""
        moment = time.monotonic()
        if moment - self._last_sweep >= SWEEP_INTERVAL:
            self._last_sweep = moment
            self.sweep()

    def close(self) -> None:
        """Stop timers and the delivery thread."""
        for timer in self._timers:
            timer.cancel()
        self.deliverer.stop()


def create_app(sandbox: Sandbox) -> Flask:
    """Return the Flask app serving the API, the hosted pages and the controls."""
    app = Flask(__name__)
    app.extensions["sandbox"] = sandbox
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(controls.bp)

    @app.before_request
    def _simulated_clock() -> None:
        """Read the simulated clock, and let overdue sessions and subscriptions expire."""
        sandbox.store.use_clock()
        sandbox.sweep_now_and_then()

    @app.get("/")
    def home() -> Response:
        """Send a browser that opens the bare address to the dashboard."""
        return redirect("/_sandbox")

    return app


def build(
    state_path: str | os.PathLike | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    retry: RetryPolicy | None = None,
    chaos: dict | None = None,
    async_delay: float | None = 5.0,
    http_timeout: float = 10.0,
) -> Sandbox:
    """Create the state and the delivery thread (not yet started)."""
    if webhook_url and not webhook_secret:
        webhook_secret = "whsec_" + secrets.token_hex(16)
    store = Store(state_path, forward_url=webhook_url, forward_secret=webhook_secret, chaos=chaos)
    return Sandbox(
        store=store, deliverer=Deliverer(store, retry, http_timeout), async_delay=async_delay
    )


def ensure_loopback(host: str) -> None:
    """Refuse to listen anywhere but on this machine: the sandbox has no real auth."""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        raise ValueError(f"cannot resolve host {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the sandbox listens on loopback addresses only, not {host!r}")


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not print a line per request (used in tests)."""

    def log(  # noqa: A002 - werkzeug's signature
        self, type: str, message: str, *args: object
    ) -> None:
        pass


def _bind(
    sandbox: Sandbox, host: str, port: int, public_url: str | None, quiet: bool
) -> BaseWSGIServer:
    """Bind the HTTP server and fix the public URL once the port is known."""
    ensure_loopback(host)
    app = create_app(sandbox)
    server = make_server(
        host, port, app, threaded=True, request_handler=_QuietHandler if quiet else None
    )
    sandbox.public_url = (public_url or f"http://{host}:{server.server_port}").rstrip("/")
    return server


@dataclass
class SandboxHandle:
    """A sandbox running in a background thread."""

    url: str
    sandbox: Sandbox
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def store(self) -> Store:
        """The sandbox's state, for tests that look inside."""
        return self.sandbox.store

    @property
    def webhook_secret(self) -> str | None:
        """Return the signing secret of the forwarding endpoint, if one was configured."""
        endpoints = self.sandbox.store.forward_endpoints
        return endpoints[0]["secret"] if endpoints else None

    def flush(self, timeout: float = 10.0, api_key: str | None = None) -> bool:
        """Wait until every queued webhook delivery has finished; False on timeout."""
        return self.sandbox.deliverer.flush(timeout, api_key)

    def stop(self) -> None:
        """Stop serving and delivering."""
        self.server.shutdown()
        self.server.server_close()
        self.sandbox.close()
        self.thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        """Use as `with start_in_thread(...) as handle:`."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop when the block ends."""
        self.stop()


def start_in_thread(
    port: int = 0,
    host: str = "127.0.0.1",
    state_path: str | os.PathLike | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    public_url: str | None = None,
    retry: RetryPolicy | None = None,
    chaos: dict | None = None,
    async_delay: float | None = 5.0,
    http_timeout: float = 10.0,
    quiet: bool = True,
) -> SandboxHandle:
    """Start a sandbox on a background thread (port 0 picks a free port) and return its handle."""
    sandbox = build(
        state_path, webhook_url, webhook_secret, retry, chaos, async_delay, http_timeout
    )
    server = _bind(sandbox, host, port, public_url, quiet)
    # A short poll interval makes stop() quick, which keeps test teardown fast.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-http",
        daemon=True,
    )
    thread.start()
    sandbox.deliverer.start()
    return SandboxHandle(
        url=f"http://{host}:{server.server_port}", sandbox=sandbox, server=server, thread=thread
    )


def serve(host: str, port: int, public_url: str | None = None, **options: Any) -> None:
    """Run the sandbox in the foreground until interrupted (the CLI)."""
    sandbox = build(**options)
    server = _bind(sandbox, host, port, public_url, quiet=False)
    sandbox.deliverer.start()
    forward = sandbox.store.forward_endpoints
    base = f"http://{host}:{server.server_port}"
    print(f"Stripe sandbox — payments are simulated. API base: {base}", flush=True)
    print(
        f"Dashboard: {base}/_sandbox   Hosted pages: {sandbox.public_url}/pay/<session id>",
        flush=True,
    )
    if forward:
        print(
            f"Forwarding every event to {forward[0]['url']}, signed with {forward[0]['secret']}",
            flush=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandbox.close()
