"""Real local servers for tests: HTTP(S), TLS, TCP and DNS on 127.0.0.1.

Every server binds port 0 (the kernel picks a free port), is listening before
its context manager yields (so no sleep is ever needed to wait for it), runs
in daemon threads, and is shut down on exit: slow handlers wait on an event
that shutdown sets, so they end at once.

* ``serve_http(routes, tls=None, record=None)`` -> base URL, e.g.
  ``"http://127.0.0.1:40123"``. ``routes`` maps a path (without query) to a
  ``Reply`` or to a callable ``(Request) -> Reply``; other paths get 404.
  ``echo`` is a ready route answering the request as JSON. With ``tls`` (a
  ``trustme.LeafCert``) it serves HTTPS. ``record`` collects the requests.
* ``tls_server(cert)`` -> ``(host, port)`` of a server that completes TLS
  handshakes with ``cert`` and then waits for the client to hang up.
* ``listening_port()`` -> port of a socket that accepts TCP connections;
  ``closed_port()`` -> a port nothing listens on (connection refused).
* ``serve_dns(records, silent=())`` -> ``(host, port)`` of a UDP DNS server
  answering from ``{"name": {"A": ["192.0.2.1"], "MX": ["10 mail.test."]}}``
  (zone-file text, one level of CNAME chasing), NOERROR with no answer for a
  known name without the type, NXDOMAIN for unknown names, and no reply at
  all for names in ``silent`` (to test timeouts).
* ``new_ca()``, ``issue_cert(ca, days_left=...)``, ``trust_ca(monkeypatch, ca)``:
  certificates from ``trustme``; ``trust_ca`` makes the checks' process-wide
  verifying SSL context (``monitors.checks.base.ssl_context(True)``) trust the
  test CA in addition to the system store for the duration of a test.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
import trustme

LOOPBACK = "127.0.0.1"
_POLL = 0.05


# --- HTTP ----------------------------------------------------------------------------


@dataclass
class Reply:
    """What a route answers. ``delay`` seconds are waited before answering
    (interrupted when the server shuts down)."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lowercase names
    body: bytes


Route = Reply | Callable[[Request], Reply]


def echo(request: Request) -> Reply:
    """A route answering the request it got as JSON."""
    payload = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body": request.body.decode("utf-8", errors="replace"),
    }
    return Reply(200, json.dumps(payload), {"Content-Type": "application/json"})


class _TLSMixin:
    """Wrap accepted sockets in TLS; the handshake happens in the handler thread
    so a slow or failing client never blocks the accept loop."""

    tls_context: ssl.SSLContext | None = None
    socket: socket.socket

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self.tls_context is not None:
            sock = self.tls_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that abort (timeouts, failed verification) are expected here.
        return None


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def _handshake(sock: Any) -> None:
    if isinstance(sock, ssl.SSLSocket):
        sock.settimeout(10)
        sock.do_handshake()
        sock.settimeout(None)


class _HTTPServer(_TLSMixin, ThreadingHTTPServer):
    daemon_threads = True
    routes: Mapping[str, Route]
    stop: threading.Event
    record: list[Request] | None


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        _handshake(self.request)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        if self.server.record is not None:
            self.server.record.append(request)
        route = self.server.routes.get(parts.path)
        if route is None:
            reply = Reply(404, "not found")
        elif isinstance(route, Reply):
            reply = route
        else:
            reply = route(request)
        if reply.delay and self.server.stop.wait(reply.delay):
            return
        payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": "text/plain; charset=utf-8", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


@contextmanager
def _running(
    server: socketserver.BaseServer, stop: threading.Event | None = None
) -> Iterator[None]:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": _POLL}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        if stop is not None:
            stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_http(
    routes: Mapping[str, Route],
    *,
    tls: trustme.LeafCert | None = None,
    record: list[Request] | None = None,
) -> Iterator[str]:
    """Serve ``routes`` on 127.0.0.1 and yield the base URL (no trailing slash)."""
    server = _HTTPServer((LOOPBACK, 0), _Handler)
    server.routes = routes
    server.stop = threading.Event()
    server.record = record
    server.tls_context = _server_context(tls) if tls is not None else None
    scheme = "https" if tls is not None else "http"
    with _running(server, server.stop):
        yield f"{scheme}://{LOOPBACK}:{server.server_address[1]}"


# --- TLS and TCP ----------------------------------------------------------------------


class _TLSServer(_TLSMixin, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TLSHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        _handshake(self.request)
        self.request.settimeout(10)
        try:
            while self.request.recv(4096):
                pass
        except (OSError, ssl.SSLError):
            pass


@contextmanager
def tls_server(cert: trustme.LeafCert) -> Iterator[tuple[str, int]]:
    """A TLS server presenting ``cert``; yields ``(host, port)``."""
    server = _TLSServer((LOOPBACK, 0), _TLSHandler)
    server.tls_context = _server_context(cert)
    with _running(server):
        yield LOOPBACK, server.server_address[1]


@contextmanager
def listening_port() -> Iterator[int]:
    """A port with a listening socket (the kernel completes connections)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def closed_port() -> int:
    """A port that was free a moment ago and has nothing listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --- certificates ---------------------------------------------------------------------


def new_ca() -> trustme.CA:
    return trustme.CA()


def issue_cert(
    ca: trustme.CA,
    *,
    days_left: float = 90,
    names: Iterable[str] = ("localhost", LOOPBACK),
) -> trustme.LeafCert:
    """A leaf for ``names`` expiring ``days_left`` days from now (negative: expired)."""
    now = datetime.now(UTC)
    not_after = now + timedelta(days=days_left)
    not_before = min(now, not_after) - timedelta(days=30)
    return ca.issue_cert(*names, not_before=not_before, not_after=not_after)


def trust_ca(monkeypatch: pytest.MonkeyPatch, ca: trustme.CA) -> ssl.SSLContext:
    """Make ``ssl_context(True)`` trust ``ca`` (and the system CAs) during a test."""
    from monitors.checks import base

    context = ssl.create_default_context()
    ca.configure_trust(context)
    monkeypatch.setattr(base, "_SSL_VERIFY", context)
    return context


# --- DNS ------------------------------------------------------------------------------


def _absolute(name: str) -> str:
    return name.lower().rstrip(".") + "."


class _DNSServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    records: dict[str, dict[str, list[str]]]
    silent: set[str]


class _DNSHandler(socketserver.BaseRequestHandler):
    server: _DNSServer

    def _rrset(self, name: str, rdtype: str) -> dns.rrset.RRset | None:
        values = self.server.records.get(name, {}).get(rdtype)
        if not values:
            return None
        return dns.rrset.from_text_list(
            name,
            60,
            dns.rdataclass.IN,
            dns.rdatatype.from_text(rdtype),
            values,
            origin=dns.name.root,
            relativize=False,
        )

    def handle(self) -> None:
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except Exception:  # a malformed packet gets no answer
            return
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        question = query.question[0]
        name = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        if name in self.server.silent:
            return
        if name not in self.server.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            rrset = self._rrset(name, rdtype)
            if rrset is None and rdtype != "CNAME":
                cname = self._rrset(name, "CNAME")
                if cname is not None:
                    response.answer.append(cname)
                    rrset = self._rrset(cname[0].target.to_text().lower(), rdtype)
            if rrset is not None:
                response.answer.append(rrset)
        sock.sendto(response.to_wire(), self.client_address)


@contextmanager
def serve_dns(
    records: Mapping[str, Mapping[str, list[str]]], *, silent: Iterable[str] = ()
) -> Iterator[tuple[str, int]]:
    """A UDP DNS server on 127.0.0.1; yields ``(host, port)``."""
    server = _DNSServer((LOOPBACK, 0), _DNSHandler)
    server.records = {
        _absolute(name): {rdtype.upper(): list(values) for rdtype, values in types.items()}
        for name, types in records.items()
    }
    server.silent = {_absolute(name) for name in silent}
    with _running(server):
        yield LOOPBACK, server.server_address[1]


# --- running checks -------------------------------------------------------------------


def run_check(
    kind: str,
    config: dict[str, Any],
    *,
    timeout: float = 5,
    monitor_id: int = 1,
    ctx: Any = None,
    created_at: datetime | None = None,
    interval: int = 60,
) -> Any:
    """Validate ``config`` and run one check of ``kind`` to completion (closing
    the pooled clients); returns the Outcome or None."""
    import asyncio

    from monitors.checks import CheckTarget, RunContext, get_check, validate_config

    target = CheckTarget(
        monitor_id=monitor_id,
        tag=f"{kind}-test",
        name=f"{kind} test",
        kind=kind,
        config=validate_config(kind, config),
        timeout_seconds=timeout,
        interval_seconds=interval,
        created_at=created_at,
    )
    context = ctx if ctx is not None else RunContext(now=datetime.now(UTC))

    async def main() -> Any:
        try:
            return await get_check(kind).run(target, context)
        finally:
            await context.aclose()

    return asyncio.run(main())
