"""A multi-process server whose workers each accept on a socket of their own (SO_REUSEPORT).

uvicorn's own `--workers` supervisor hands every worker one shared listening socket, and
asyncio accepts every pending connection each time it wakes up (up to the backlog): clients
that connect together all land on whichever worker woke first. Measured with 2 workers and
4, 8 or 16 keep-alive connections opened at once (docs/benchmarks.md): one worker did 90-100 %
of the work while the other idled. Here the supervisor binds one socket per worker to the same
address with SO_REUSEPORT, and the kernel spreads new connections over them by a hash of the
client's address and port. The supervisor keeps every socket open, so the connections that
arrive while a worker restarts wait in its queue instead of being refused.

The supervisor starts the workers (`spawn`: each imports the app afresh), restarts one that
exits, stops all of them on SIGINT/SIGTERM (uvicorn's graceful shutdown in each), and gives up
when a worker fails before it serves (a broken app or store fails the same way every time).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("battrace.api")

#: uvicorn's exit status for a worker that failed before serving
STARTUP_FAILURE = 3
#: seconds a stopping worker gets to finish its requests before it is killed
GRACE = 30.0


#: the kernel balances connections over sockets sharing a port (Linux); elsewhere SO_REUSEPORT
#: does not spread them, and the workers share one socket as under uvicorn's own supervisor
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_sockets(host: str, port: int, n: int, *, backlog: int = 2048) -> list[socket.socket]:
    """A socket listening on host:port for each of `n` workers (port 0: a free port); one
    shared socket where the kernel would not balance (`BALANCED`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
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
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks if BALANCED else socks * n


def _worker(sock: socket.socket, options: dict[str, Any]) -> None:
    """One worker: uvicorn serving `worker_app` on its own socket."""
    config = uvicorn.Config("battrace.api.server:worker_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts, watches and stops the workers of one server."""

    def __init__(
        self,
        socks: Sequence[socket.socket],
        options: dict[str, Any],
        *,
        target: Callable[[socket.socket, dict[str, Any]], None] = _worker,
    ) -> None:
        self.socks = list(socks)
        self.options = options
        self.target = target
        self.stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self.procs: list[Any] = []

    def _start(self, i: int) -> Any:
        proc = self._context.Process(
            target=self.target, args=(self.socks[i], self.options), name=f"battrace-worker-{i}"
        )
        proc.start()
        return proc

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping the workers", signal.Signals(signum).name)
        self.stop.set()

    def run(self, *, poll: float = 0.5) -> int:
        """Serve until a signal (0) or a worker that cannot start (STARTUP_FAILURE)."""
        previous = {
            sig: signal.signal(sig, self._signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        status = 0
        try:
            self.procs = [self._start(i) for i in range(len(self.socks))]
            while not self.stop.wait(poll):
                status = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _watch(self) -> int:
        for i, proc in enumerate(self.procs):
            if proc.is_alive():
                continue
            if proc.exitcode == STARTUP_FAILURE:
                log.error("worker %d [%s] could not start: stopping the server", i, proc.pid)
                self.stop.set()
                return STARTUP_FAILURE
            log.warning(
                "worker %d [%s] exited with status %s: starting another", i, proc.pid, proc.exitcode
            )
            self.procs[i] = self._start(i)
        return 0

    def _stop_all(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for proc in self.procs:
            proc.join(GRACE)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for sock in self.socks:
            sock.close()


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Serve `worker_app` in `workers` processes on host:port; the exit status."""
    socks = listening_sockets(host, port, workers)
    bound = socks[0].getsockname()
    log.info(
        "battrace serving on %s:%d with %d workers (SO_REUSEPORT)", bound[0], bound[1], workers
    )
    return Supervisor(socks, options).run()
