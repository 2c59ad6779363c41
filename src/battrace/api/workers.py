"""A multi-process server whose workers each accept on a socket of their own (SO_REUSEPORT).

uvicorn's own `--workers` supervisor hands every worker one shared listening socket, and
asyncio accepts every pending connection each time it wakes up (up to the backlog): clients
that connect together all land on whichever worker woke first. Measured with 2 workers and
4, 8 or 16 keep-alive connections opened at once (docs/api.md): one worker did 90-100 % of the
work while the other idled. Here the supervisor binds one socket per worker to the same address
with SO_REUSEPORT, and the kernel spreads new connections over them by a hash of the client's
address and port. The supervisor keeps every socket open, so the connections that arrive while
a worker restarts wait in its queue instead of being refused.

The supervisor (POSIX) refuses an address another server listens on, starts the workers
(`spawn`: each imports the app afresh; each stops if the supervisor dies), replaces one that
exits (with a growing pause when it keeps dying young), stops all of them on SIGINT, SIGTERM or
SIGHUP (uvicorn's graceful shutdown in each), and gives up with status 3 when a worker fails
before it serves: a broken app, policy or store fails the same way every time. It does not ping
its workers: a worker that hangs without exiting keeps its share of new connections.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import uvicorn

from battrace.errors import ConfigError

#: uvicorn's logger for server life-cycle lines (configured by `uvicorn.Config`)
log = logging.getLogger("uvicorn.error")

#: uvicorn's exit status for a worker that failed before serving
STARTUP_FAILURE = 3
#: seconds a stopping server gives its workers to finish what they do before they are killed
GRACE = 30.0
#: a worker that exits sooner than this after its start waits twice as long as the last time
#: before the next start (from FIRST_PAUSE up to MAX_PAUSE)
YOUNG = 5.0
FIRST_PAUSE, MAX_PAUSE = 0.5, 30.0
#: the kernel balances connections over sockets sharing a port (Linux); elsewhere SO_REUSEPORT
#: does not spread them, and the workers share one socket as under uvicorn's own supervisor
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Target = Callable[[socket.socket, dict[str, Any], int], None]


def listening_sockets(host: str, port: int, n: int, *, backlog: int = 2048) -> list[socket.socket]:
    """A socket listening on host:port for each of `n` workers (port 0: a free port); one
    shared socket where the kernel would not balance (`BALANCED`). ConfigError when another
    server listens there already (SO_REUSEPORT alone would quietly share the port with it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        if port:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))  # without SO_REUSEPORT: fails if anyone listens
        for _ in range(n if BALANCED else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if BALANCED:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # the rest join the first one's port
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in socks:
            sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return socks if BALANCED else socks * n


def _worker(sock: socket.socket, options: dict[str, Any], parent: int) -> None:
    """One worker: uvicorn serving `worker_app` on its own socket, for as long as `parent`
    (the supervisor) lives."""
    _die_with(parent)
    config = uvicorn.Config("battrace.api.server:worker_app", factory=True, **options)
    try:
        try:
            config.load()  # builds the app: a bad policy, calendar or store fails here
        except Exception:
            log.exception("the worker could not build the app")
            sys.exit(STARTUP_FAILURE)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C while starting: the supervisor reports the stop
        pass


def _die_with(parent: int) -> None:
    """Have the kernel send SIGTERM to this process when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that took effect
        sys.exit(0)


class Supervisor:
    """Starts, watches and stops the workers of one server."""

    def __init__(
        self, socks: Sequence[socket.socket], options: dict[str, Any], *, target: Target = _worker
    ) -> None:
        self.socks = list(socks)
        self.options = options
        self.target = target
        #: the stop signal received (set by the handler, which takes no locks and logs nothing)
        self.signalled: int | None = None
        self.stopping = False
        self.procs: list[Any] = []
        self._started: list[float] = []
        self._pause: list[float] = []
        self._due: list[float] = []
        self._context = multiprocessing.get_context("spawn")

    def _start(self, i: int) -> Any:
        proc = self._context.Process(
            target=self.target,
            args=(self.socks[i], self.options, os.getpid()),
            name=f"battrace-worker-{i}",
        )
        proc.start()
        return proc

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signalled = signum

    def stop(self) -> None:
        """Ask `run` to stop the workers and return (from any thread)."""
        self.stopping = True

    def run(self, *, poll: float = 0.5) -> int:
        """Serve until a stop signal or `stop()` (0), or a worker that cannot start (3)."""
        previous: dict[int, Any] = {}
        status = 0
        try:
            for sig in _STOP_SIGNALS:
                previous[sig] = signal.signal(sig, self._signal)
            for i in range(len(self.socks)):
                self.procs.append(self._start(i))
                self._started.append(time.monotonic())
                self._pause.append(FIRST_PAUSE)
                self._due.append(0.0)
            while status == 0 and not self._should_stop():
                time.sleep(poll)
                if not self._should_stop():
                    status = self._watch()
        finally:
            if self.signalled is not None:
                log.info("%s: stopping the workers", signal.Signals(self.signalled).name)
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return status

    def _should_stop(self) -> bool:
        return self.stopping or self.signalled is not None

    def _watch(self) -> int:
        now = time.monotonic()
        for i, proc in enumerate(self.procs):
            if proc is not None and proc.is_alive():
                continue
            if proc is not None:
                if proc.exitcode == STARTUP_FAILURE:
                    log.error("worker %d [%s] could not start: stopping the server", i, proc.pid)
                    return STARTUP_FAILURE
                young = now - self._started[i] < YOUNG
                self._pause[i] = min(self._pause[i] * 2, MAX_PAUSE) if young else FIRST_PAUSE
                self._due[i] = now + self._pause[i]
                log.warning(
                    "worker %d [%s] exited with status %s: another starts in %.1f s",
                    i,
                    proc.pid,
                    proc.exitcode,
                    self._pause[i],
                )
                self.procs[i] = None
            if now >= self._due[i]:
                self.procs[i] = self._start(i)
                self._started[i] = now
        return 0

    def _stop_all(self) -> None:
        live = [p for p in self.procs if p is not None and p.is_alive()]
        for proc in live:
            proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for sock in self.socks:
            sock.close()  # new connections are refused now, not left unanswered in a queue
        deadline = time.monotonic() + GRACE
        for proc in live:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in live:
            if proc.is_alive():
                proc.kill()
                proc.join()


def serve(socks: Sequence[socket.socket], options: dict[str, Any]) -> int:
    """Serve `worker_app` with a worker per socket (`listening_sockets`); the exit status."""
    host, port = socks[0].getsockname()[:2]
    log.info("battrace serving on http://%s:%d with %d workers", host, port, len(socks))
    # uvicorn cancels what is left and runs the app's shutdown before the supervisor's kill
    options = {"timeout_graceful_shutdown": int(GRACE) - 5, **options}
    return Supervisor(socks, options).run()
