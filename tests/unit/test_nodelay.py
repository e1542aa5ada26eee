"""Nagle's algorithm is off wherever a small message must not wait: the event socket
(both ends, as mod_event_socket does) and the desktops' websockets."""

from __future__ import annotations

import socket

import gevent
import gevent.socket
from gevent import pywsgi

from cti_middleware.esl.client import EslConnection
from cti_middleware.simulator import server as sim_server
from cti_middleware.web.server import NoDelayWSGIServer


def _nodelay(sock) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_event_socket_both_ends(monkeypatch):
    seen: list[bool] = []
    original = sim_server.Connection.__init__

    def record(self, sock, address, server):
        seen.append(_nodelay(sock))
        original(self, sock, address, server)

    monkeypatch.setattr(sim_server.Connection, "__init__", record)
    switch = sim_server.EslServer("127.0.0.1", 0, "ClueCon", run_api=lambda cmd: "+OK",
                                  run_bgapi=lambda cmd, job: None, register=lambda conn: None,
                                  unregister=lambda conn: None)
    switch.start()
    conn = EslConnection("127.0.0.1", switch.port, "ClueCon")
    try:
        conn.connect()
        assert _nodelay(conn.sock) and seen == [True]
    finally:
        conn.close("test over")
        switch.stop()


def test_desktop_websockets(monkeypatch):
    seen: list[bool] = []
    original = pywsgi.WSGIServer.handle

    def record(self, sock, address):
        seen.append(_nodelay(sock))
        return original(self, sock, address)

    monkeypatch.setattr(pywsgi.WSGIServer, "handle", record)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = NoDelayWSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    try:
        with gevent.socket.create_connection(("127.0.0.1", server.server_port)) as client:
            client.sendall(b"GET / HTTP/1.0\r\n\r\n")
            with gevent.Timeout(5):
                assert client.recv(100).startswith(b"HTTP/1.1 200")
        assert seen == [True]
    finally:
        server.stop()
