"""The cyclic garbage collector while a large set compiles.

Reading specs makes a model that lives to the end of the compile and no garbage cycles, and
building outputs makes short-lived objects that reference counting frees. The collector's
passes would only walk the model, again and again as it grows (over a second of a large
compile): it is paused while specs are read, and the specs are kept out of its passes while
outputs are built. Forked workers keep what they inherit out of theirs (compiler.workers).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Generator


@contextlib.contextmanager
def long_lived() -> Generator[None, None, None]:
    """Leave the objects that exist now (the specs being built) out of the cyclic garbage
    collector's passes until the block ends: they outlive it, and a full pass over millions
    of them, repeated as outputs are built, cost a second of a large compile. Objects that
    become garbage meanwhile are collected after the block. Nothing is done when some
    caller froze the heap already (its freeze is not undone)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def collector_paused() -> Generator[None, None, None]:
    """No cyclic garbage collection in the block, for work that makes objects to keep and
    no garbage cycles (whose passes over a growing heap would find nothing); processes
    forked in the block inherit the pause. Nothing is done if the collector is off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
