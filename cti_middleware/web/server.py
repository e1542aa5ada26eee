"""The HTTP/websocket server the middleware runs under."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from gevent import pywsgi


class NoDelayWSGIServer(pywsgi.WSGIServer):
    """gevent's WSGI server with Nagle's algorithm off on every connection.

    Desktops get many small pushes (a pop, a state change, a waiting count). With
    Nagle on, a push written while the previous one is still unacknowledged waits
    for that acknowledgement, which the desktop's delayed ACK may hold for up to
    40 ms: the screen pop would wait on TCP, not on anything the middleware does.
    """

    def handle(self, sock: Any, address: Any) -> Any:
        with contextlib.suppress(OSError):  # a connection already gone is handled below
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle(sock, address)
