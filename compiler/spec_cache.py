"""Each spec file's checked model, by the hash of its bytes, so that a compile after one
edit loads, schema-checks and models only the edited file.

An entry holds what building the file's documents gave (the model of each service and the
warnings found on the way) for one key: the file's bytes and name and the compiler's
fingerprint (its code, schemas, templates, interpreter and libraries). Only files whose
every document built without an error are stored: the checks that look across files run
on every compile, cached or not.

The model is pickled, and a cache directory may hold entries somebody else put there, so
an entry is read only when it proves itself (its format and key line, its payload's length
and SHA-256) and is unpickled by an unpickler that can build nothing but the compiler's own
frozen dataclasses and enums and a few plain values (``Decimal``, ``frozenset``): no
function can be called, so a planted entry can at worst be ignored. Anything that does not
check out is ignored and the file built again.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.output_cache import EntryStore

FORMAT = b"slo-compiler spec cache 1"
SUBDIRECTORY = "specs"  # under the cache directory, beside the output entries
_PROTOCOL = 5
# Plain values the model holds besides the compiler's own classes.
_PLAIN = {("decimal", "Decimal"), ("builtins", "frozenset"), ("builtins", "set")}


@dataclasses.dataclass(frozen=True)
class Built:
    """What building one document of a spec file gave: its service (the model) and the
    warnings found on the way."""

    spec: Any  # compiler.model.service.ServiceSpec; Any keeps this module below the model
    diagnostics: tuple[Diagnostic, ...]


class SpecCache(EntryStore[list[Built]]):
    """Entries under ``directory``/specs, one file per key."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory / SUBDIRECTORY, _parse)

    def put(self, key: str, built: Sequence[Built]) -> None:
        """Store ``built`` under ``key``."""
        payload = pickle.dumps(list(built), protocol=_PROTOCOL)
        head = b"%s %s\n%d %s\n" % (
            FORMAT,
            key.encode(),
            len(payload),
            hashlib.sha256(payload).hexdigest().encode(),
        )
        self._store(key, head + payload)


def _parse(raw: bytes, key: str) -> list[Built] | None:
    """The built documents of an entry, or None if any part of it does not check out."""
    first, _, rest = raw.partition(b"\n")
    if first != FORMAT + b" " + key.encode():
        return None
    second, _, payload = rest.partition(b"\n")
    length, _, sha = second.partition(b" ")
    if not length.isdigit() or int(length) != len(payload):
        return None
    if hashlib.sha256(payload).hexdigest().encode() != sha:
        return None
    try:
        found = _ModelUnpickler(io.BytesIO(payload)).load()
    except Exception:  # whatever a bad entry raises, it is only ignored
        return None
    if not isinstance(found, list) or not all(isinstance(item, Built) for item in found):
        return None
    return found


class _ModelUnpickler(pickle.Unpickler):
    """Builds only the compiler's dataclasses and enums and the plain values in _PLAIN."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if (module == "compiler" or module.startswith("compiler.")) and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and (
                dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of the model")
