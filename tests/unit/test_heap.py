"""The garbage collector while a set compiles: paused while specs are read, kept off them
while outputs are built, and left as a caller set it."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from compiler import heap, pipeline


class Cycle:
    me: object = None


def _cycle() -> weakref.ref[Cycle]:
    cycle = Cycle()
    cycle.me = cycle
    return weakref.ref(cycle)


def test_long_lived_freezes_for_the_block_and_collects_after() -> None:
    """Inside the block what existed before is frozen; after it nothing is, and garbage
    cycles made inside are collected. A freeze the caller made is left as it was."""
    with heap.long_lived():
        assert gc.get_freeze_count() > 0
        witness = _cycle()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert witness() is None
    gc.freeze()
    try:
        with heap.long_lived():
            pass
        # Still frozen (the count itself drops as frozen objects are freed meanwhile).
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_collector_paused_for_the_block_and_left_off_if_it_was() -> None:
    with heap.collector_paused():
        assert not gc.isenabled()
        witness = _cycle()
    assert gc.isenabled()
    gc.collect()
    assert witness() is None
    gc.disable()
    try:
        with heap.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reading_the_repositorys_specs_makes_no_garbage_cycles() -> None:
    """What the pause rests on: the collector would find nothing to free after the specs
    are read (the loader lets go of its constructor's nodes, which made a cycle each)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        compilation = pipeline.compile_specs([Path(__file__).parents[2] / "slos"])
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert compilation.ok and compilation.specs.services
    assert found == []
