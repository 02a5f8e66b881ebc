"""A TCP server on 127.0.0.1 that plays recorded AMI streams back, as Asterisk would.

Each accepted connection plays the next `Session`: the banner and the recorded Login
response (its ActionID replaced by the client's), then — if the login succeeded — the
recorded events, in as many TCP writes as `cuts` asks. Actions the client sends are
recorded in `received` and answered from `replies` (recorded bytes, ActionIDs rewritten)
or with a plain "Response: Success". A session may wait for an action before it streams
(as a CoreShowChannels listing comes before the events that follow it), drop the
connection after streaming, or stay silent to some actions (timeouts).
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Session:
    stream: bytes  # a recorded .ami file: banner, Login response, events
    cuts: Iterable[int] = ()  # offsets into the events where a TCP write ends
    replies: dict[str, bytes] = field(default_factory=dict)  # Action → recorded reply
    errors: dict[str, str] = field(default_factory=dict)  # Action → "Response: Error" message
    silent: set[str] = field(default_factory=set)  # actions never answered
    stream_after: str = ""  # hold the events back until this action was answered
    drop: bool = False  # close the connection once the events are sent


def split_stream(stream: bytes) -> tuple[bytes, bytes, bytes]:
    banner, _, rest = stream.partition(b"\r\n")
    login, _, events = rest.partition(b"\r\n\r\n")
    return banner + b"\r\n", login + b"\r\n\r\n", events


def with_action_id(reply: bytes, action_id: str) -> bytes:
    """A recorded reply as an answer to this client's action."""
    lines = reply.split(b"\r\n")
    fresh = f"ActionID: {action_id}".encode()
    return b"\r\n".join(fresh if line.startswith(b"ActionID: ") else line for line in lines)


class ReplayServer:
    def __init__(self, *sessions: Session, tls: ssl.SSLContext | None = None) -> None:
        self.sessions = list(sessions)
        self.tls = tls  # serve over TLS with this server context
        self.received: list[dict[str, str]] = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def config(self, **extra: object) -> dict[str, object]:
        return {
            "ami_host": "127.0.0.1",
            "ami_port": self.port,
            "ami_user": "kartoteka",
            "ami_secret": "s3cret",
            "ami_timeout": 2.0,
            **extra,
        }

    def actions(self) -> list[str]:
        return [m.get("Action", "") for m in self.received]

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        with contextlib.suppress(OSError):
            self.sock.close()
        self._accepter.join(timeout=5)
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the server side ----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._open.append(conn)
            session = self.sessions.pop(0) if self.sessions else None
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn, session), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, session: Session | None) -> None:
        if session is None:  # nothing more to play: refuse like a PBX that is down
            conn.close()
            return
        lock = threading.Lock()
        banner, login, events = split_stream(session.stream)
        streamed = threading.Event()
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.sendall(banner)
            for action in self._read_actions(conn):
                self.received.append(action)
                name, action_id = action.get("Action", ""), action.get("ActionID", "")
                if name == "Login":
                    with lock:
                        conn.sendall(with_action_id(login, action_id))
                    if b"Response: Error" in login:
                        break  # Asterisk hangs up on a refused login
                    if not session.stream_after:
                        self._stream(conn, session, events, lock, streamed)
                    continue
                if name in session.silent:
                    continue
                with lock:
                    conn.sendall(self._reply(session, name, action_id))
                if name == "Logoff":
                    break
                if name == session.stream_after and not streamed.is_set():
                    self._stream(conn, session, events, lock, streamed)
                if streamed.is_set() and session.drop:
                    break
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _stream(self, conn, session, events, lock, streamed) -> None:
        bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in session.cuts)})
        with lock:
            for start, end in itertools.pairwise(bounds):
                conn.sendall(events[start:end])
                time.sleep(0.001)  # let each piece leave as its own TCP segment
        streamed.set()
        if session.drop:
            conn.shutdown(socket.SHUT_RDWR)

    def _reply(self, session: Session, name: str, action_id: str) -> bytes:
        if name in session.replies:
            return with_action_id(session.replies[name], action_id)
        if name in session.errors:
            message = session.errors[name]
            return (
                f"Response: Error\r\nActionID: {action_id}\r\nMessage: {message}\r\n\r\n".encode()
            )
        if name == "Logoff":
            goodbye = "Message: Thanks for all the fish."
            return f"Response: Goodbye\r\nActionID: {action_id}\r\n{goodbye}\r\n\r\n".encode()
        if name == "CoreShowChannels":
            return (
                f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n"
                f"Message: Channels will follow\r\n\r\n"
                f"Event: CoreShowChannelsComplete\r\nActionID: {action_id}\r\n"
                f"EventList: Complete\r\nListItems: 0\r\n\r\n"
            ).encode()
        return f"Response: Success\r\nActionID: {action_id}\r\nMessage: OK\r\n\r\n".encode()

    @staticmethod
    def _read_actions(conn: socket.socket) -> Iterable[dict[str, str]]:
        buffer = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                block, buffer = buffer.split(b"\r\n\r\n", 1)
                action = {}
                for line in block.decode().split("\r\n"):
                    key, _, value = line.partition(": ")
                    action[key] = value
                yield action
