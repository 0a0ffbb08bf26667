"""An ordered map over worker processes that holds only a few results at a time.

Building a service's outputs is pure CPU; with more than one core, forked workers build
several services at once. Results come back in the order asked for, and no more than
``window`` are pending at any moment, so memory stays that of a few services however many
there are (``multiprocessing.Pool.imap`` would buffer every finished result).
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.pool
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """The cores this process may run on less those the 1-minute load average says are
    busy (as ``make -l`` reads it), at least one: how many processes pay on this machine
    now. A build on an idle machine uses every core; on one that others keep busy, it
    does not add processes that would only wait for a core."""
    cores = available_cores()
    try:
        busy = int(os.getloadavg()[0])
    except OSError:  # pragma: no cover - no load average on this system
        busy = 0
    return max(1, min(cores, cores - busy))


class OrderedResults(Iterator[Result]):
    """Results of :func:`ordered_map`, in the order of their items; :meth:`close` stops the
    workers (it is safe to call more than once, and after the last result)."""

    def __init__(
        self,
        function: Callable[[Item], Result],
        items: Iterable[Item],
        pool: multiprocessing.pool.Pool | None,
        window: int,
    ) -> None:
        self._function = function
        self._items = iter(items)
        self._pool = pool
        self._pending: deque[AsyncResult[Result]] = deque()
        if pool is not None:
            for item in itertools.islice(self._items, window):
                self._pending.append(pool.apply_async(function, (item,)))

    def __next__(self) -> Result:
        if self._pool is None:
            return self._function(next(self._items))
        if not self._pending:
            self.close()
            raise StopIteration
        result = self._pending.popleft().get()
        for item in itertools.islice(self._items, 1):
            self._pending.append(self._pool.apply_async(self._function, (item,)))
        return result

    def close(self) -> None:
        """Stop the workers, whatever they are doing."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            self._pending.clear()


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], jobs: int
) -> OrderedResults[Result]:
    """``map(function, items)`` on ``jobs`` forked processes, in order.

    ``function`` runs in a fork of this process, so it sees the module state set before the
    call (the specs being built) without pickling it; only results are sent back. The
    workers are forked here, at the call, not when the first result is asked for: the
    caller may start threads after the call (the writer does), and a process must not fork
    while its threads hold locks. Serially in this process where ``jobs`` is 1 or fork is
    not available. The caller closes the results when it stops early.
    """
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return OrderedResults(function, items, None, 0)
    pool = multiprocessing.get_context("fork").Pool(jobs)
    return OrderedResults(function, items, pool, 2 * jobs)
