"""An ordered map over worker processes that holds only a few results at a time.

Building a service's outputs is pure CPU; with more than one core, forked workers build
several services at once. Results come back in the order asked for, and only a few per
worker are pending at any moment, so memory stays that of a few services however many
there are (``multiprocessing.Pool.imap`` would buffer every finished result).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import pickle
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import TypeVar, cast

Item = TypeVar("Item")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """The cores this process may run on less those other processes keep busy now, at
    least one: how many processes pay on this machine now. A build on an idle machine uses
    every core; on one that others keep busy, it does not add processes that would only
    wait for a core."""
    cores = available_cores()
    return max(1, min(cores, cores - busy_cores())) if cores > 1 else 1


def busy_cores() -> int:
    """The cores other processes keep busy now: the tasks the kernel counts as runnable at
    this moment, less this one, the fewest of a few looks a few milliseconds apart (a task
    that ran for an instant keeps no core busy). Where the kernel gives no such count, the
    1-minute load average (as ``make -l`` reads it).

    Not the load average where there is a choice: it decays over a minute, so right after
    a compile it still counts that compile's processes, and the next would run alone."""
    looks = []
    for look in range(_LOOKS):
        if look:
            time.sleep(_LOOK_APART)
        runnable = _runnable_now()
        if runnable is None:
            break
        looks.append(runnable - 1)
    if looks:
        return max(0, min(looks))
    try:
        return int(os.getloadavg()[0])
    except OSError:  # pragma: no cover - no load average on this system
        return 0


_LOOKS = 3
_LOOK_APART = 0.005  # seconds
# Linux: "0.61 0.72 0.99 2/345 12345", the fourth field is tasks runnable now / all tasks.
_LOADAVG = Path("/proc/loadavg")


def _runnable_now() -> int | None:
    """The tasks runnable at this moment (this one among them), or None if not known."""
    try:
        return int(_LOADAVG.read_text().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


class WorkerError(RuntimeError):
    """A worker process stopped without sending its result (killed, or out of memory)."""


class OrderedResults(Iterator[Result]):
    """Results of :func:`ordered_map`, in the order of their items; :meth:`close` stops the
    workers (it is safe to call more than once, and after the last result)."""

    def __init__(
        self, function: Callable[[Item], Result], items: Iterable[Item], jobs: int
    ) -> None:
        self._function = function
        self._items = iter(items)
        self._workers: list[_Worker] = []
        # Which worker has each item sent and not yet read back, oldest first. A worker
        # answers in the order it was asked, so the oldest item's result is the next one
        # its connection delivers.
        self._pending: deque[_Worker] = deque()
        if jobs > 1:
            self._workers = _fork(function, jobs)
            for _ in range(_PER_WORKER):
                for worker in self._workers:
                    self._send(worker)

    @property
    def pids(self) -> tuple[int, ...]:
        """The worker processes' ids (none when the items are mapped in this process)."""
        return tuple(worker.pid for worker in self._workers)

    def _send(self, worker: _Worker) -> None:
        for item in itertools.islice(self._items, 1):
            # A worker that died is reported when its result is read (the connection's end).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                worker.connection.send(item)
            self._pending.append(worker)

    def __next__(self) -> Result:
        if not self._workers:
            return self._function(next(self._items))
        if not self._pending:
            self.close()
            raise StopIteration
        worker = self._pending.popleft()
        try:
            done, value = worker.connection.recv()
        except (EOFError, ConnectionResetError):
            self.close()
            raise WorkerError(f"worker process {worker.pid} stopped without its result") from None
        if not done:
            self.close()
            raise value
        self._send(worker)
        return cast(Result, value)

    def close(self) -> None:
        """Stop the workers, whatever they are doing."""
        workers, self._workers = self._workers, []
        self._pending.clear()
        for worker in workers:
            worker.connection.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        for worker in workers:
            os.waitpid(worker.pid, 0)


# Items sent to a worker ahead of their turn: it never waits for work while the results
# of a slower one are read, and no more than this many results per worker are held.
_PER_WORKER = 2


@dataclass(frozen=True)
class _Worker:
    pid: int
    connection: Connection


def _fork(function: Callable[[Item], Result], jobs: int) -> list[_Worker]:
    """``jobs`` forked processes, each serving ``function`` on its own connection."""
    ends = [multiprocessing.Pipe() for _ in range(jobs)]
    workers: list[_Worker] = []
    try:
        for ours, theirs in ends:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the worker, which coverage does not see
                code = 1
                # What it inherits is never garbage here: passes over it would copy every
                # page the parent shares with it.
                gc.freeze()
                try:
                    # Only its own end stays open: a worker that dies is then seen by the
                    # parent as the end of that connection, and one that outlives the parent
                    # as the end of its own.
                    for connection in (end for pair in ends for end in pair):
                        if connection is not theirs:
                            connection.close()
                    _serve(function, theirs)
                    code = 0
                finally:
                    os._exit(code)
            workers.append(_Worker(pid, ours))
    finally:
        for _, theirs in ends:
            theirs.close()
    return workers


def _serve(function: Callable[[Item], Result], connection: Connection) -> None:
    """Answer each item read from ``connection`` with ``(True, result)``, or with
    ``(False, exception)`` when ``function`` raises, until the connection closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        try:
            answer: tuple[bool, object] = (True, function(item))
        except Exception as exc:  # handed to the parent, which raises it
            answer = (False, _sendable(exc))
        try:
            message = ForkingPickler.dumps(answer)
        except Exception as exc:  # a result that cannot be pickled: say so instead
            message = ForkingPickler.dumps((False, _sendable(exc)))
        connection.send_bytes(message)


def _sendable(exc: Exception) -> Exception:
    """``exc`` with the worker's traceback as a note, or, if it cannot be pickled, a
    WorkerError that says what it was."""
    exc.add_note("In a worker process:\n" + "".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.dumps(exc)
    except Exception:  # any failure to pickle: send its text instead
        return WorkerError("".join(traceback.format_exception(exc)).rstrip())
    return exc


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], jobs: int
) -> OrderedResults[Result]:
    """``map(function, items)`` on ``jobs`` forked processes, in order.

    ``function`` runs in a fork of this process, so it sees the module state set before the
    call (the specs being built) without pickling it; items and results are pickled. The
    workers are forked here, at the call, not when the first result is asked for: the
    caller may start threads after the call (the writer does), and a process must not fork
    while its threads hold locks. Serially in this process where ``jobs`` is 1 or fork is
    not available. An exception ``function`` raises is raised by ``next``, with the worker's
    traceback as a note. The caller closes the results when it stops early.

    Not ``multiprocessing.Pool``: its worker-handling thread waits on the results pipe and
    spins while a result is unread, costing a second of CPU over a large compile.
    """
    if jobs <= 1 or not hasattr(os, "fork"):
        jobs = 1
    return OrderedResults(function, items, jobs)
