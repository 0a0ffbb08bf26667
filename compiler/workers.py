"""An ordered map over worker processes that holds only a few results at a time.

Building a service's outputs is pure CPU; with more than one core, forked workers build
several services at once. Results come back in the order asked for, and no more than
``window`` are pending at any moment, so memory stays that of a few services however many
there are (``multiprocessing.Pool.imap`` would buffer every finished result).
"""

from __future__ import annotations

import multiprocessing
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


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], jobs: int
) -> Iterator[Result]:
    """``map(function, items)`` on ``jobs`` forked processes, in order.

    ``function`` runs in a fork of this process, so it sees the module state set before the
    call (the specs being built) without pickling it; only results are sent back. Serially
    in this process where ``jobs`` is 1 or fork is not available.
    """
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(function, items)
        return
    window = 2 * jobs
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: deque[AsyncResult[Result]] = deque()
        for item in items:
            pending.append(pool.apply_async(function, (item,)))
            if len(pending) >= window:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
