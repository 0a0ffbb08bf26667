"""load → validate → model → targets: the whole compilation, one way through.

Each stage collects diagnostics; compilation stops before any target runs if there is an
error anywhere, so bad input never leaves half-written outputs behind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from compiler import formats, output_cache, writer
from compiler.diagnostics import Diagnostic, Location, SpecError, errors
from compiler.heap import collector_paused, long_lived
from compiler.load.discovery import discover, display_path
from compiler.load.loader import Document, load_bytes, read_spec
from compiler.load.schema_check import check
from compiler.model.environment import Environment
from compiler.model.routing import Routing
from compiler.model.service import ServiceSpec, SpecSet
from compiler.output_cache import CachedFile, OutputCache
from compiler.outputs import OutputFile
from compiler.spec_cache import Built, SpecCache
from compiler.targets import alertmanager
from compiler.targets.grafana import dashboards
from compiler.targets.otel import collector_config
from compiler.targets.prometheus import rule_files, templating
from compiler.targets.rule_tests import promtool_files
from compiler.validate import routing, signals
from compiler.validate.dashboards import uid_clashes
from compiler.validate.environments import KIND as ENVIRONMENT_KIND
from compiler.validate.environments import build_environment, cross_checks, with_span_unit
from compiler.validate.services import build_service
from compiler.workers import ordered_map

NATIVE_API_VERSION = "slo-compiler/v1"


# Targets live in compiler/targets/. A service target builds one service's files from its
# spec alone, so they are built (and cached) service by service; a set target builds what
# the whole set shares.
ServiceTarget = Callable[[ServiceSpec], list[OutputFile]]
SetTarget = Callable[[SpecSet], list[OutputFile]]


SERVICE_TARGETS: tuple[ServiceTarget, ...] = (
    rule_files.service_files,
    promtool_files.service_files,
    dashboards.service_files,
)
# The rule shapes' tests come first: built shape by shape, and cached like a service's files.
SET_TARGETS: tuple[SetTarget, ...] = (
    dashboards.set_files,
    alertmanager.config_files,
    collector_config.config_files,
)


@dataclass
class Compilation:
    """The model built from a set of spec files, with everything found on the way."""

    specs: SpecSet = field(default_factory=SpecSet)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # file (as shown) -> its bytes' hash

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not errors(self.diagnostics)


@dataclass(frozen=True)
class Scope:
    """What a command compiles, and whose outputs it may write and remove."""

    paths: tuple[Path, ...]  # the specs compiled (checked together, as one set)
    # The spec files (as shown in messages) whose outputs are written, when they are some of
    # the set; None: every output, including those built from the whole set.
    only: frozenset[str] | None = None

    def owners(self, specs: SpecSet) -> frozenset[str] | None:
        """The spec files whose outputs may be written once compiled: every one (None) when
        a chosen file is a document of the whole set (routing, an environment), since its
        changes reach every service's outputs."""
        if self.only is None:
            return None
        shared = {environment.source for environment in specs.environments}
        if specs.routing is not None:
            shared.add(specs.routing.source)
        return None if shared & self.only else self.only


class ScopeError(ValueError):
    """Paths that cannot be compiled together (some of the project's set, some not)."""


def scope(given: Sequence[Path], configured: Sequence[Path], root: Path | None = None) -> Scope:
    """Compile ``given`` (default: the ``configured`` set). Some specs of the configured set
    are compiled with the whole set, so that every check sees what it depends on, but only
    their own outputs are touched; paths outside the set are a set of their own. Raises
    :class:`ScopeError` for a mix of both."""
    if not given:
        return Scope(tuple(configured))
    found, problems = discover(given)
    if errors(problems):  # compiled alone, they say why
        return Scope(tuple(given))
    wanted = {path.resolve() for path in found}
    members = discover(configured)[0]
    known = {path.resolve() for path in members}
    if not wanted & known:
        return Scope(tuple(given))
    if not wanted <= known:
        raise ScopeError(
            "some of the specs given belong to the project's set and some do not: "
            "compile them separately"
        )
    if wanted == known:
        return Scope(tuple(configured))
    # Named as the set names them (a file reached through a link is still that file).
    shown = frozenset(display_path(path, root) for path in members if path.resolve() in wanted)
    return Scope(tuple(configured), shown)


def compile_specs(
    paths: Sequence[Path],
    root: Path | None = None,
    cache: SpecCache | None = None,
    jobs: int = 1,
) -> Compilation:
    """Load, validate and model every spec under ``paths`` (named relative to ``root``, by
    default the working directory, in messages and outputs).

    With ``cache``, a spec file whose bytes (and compiler) are unchanged since it was last
    built is not loaded, checked and modelled again: its services come from the cache. The
    checks across files run on every service either way. ``jobs`` > 1: files are read and
    built in that many processes, when there are enough of them to pay for the processes.
    """
    return compile_documents(paths, root, cache, jobs)[0]


def compile_documents(
    paths: Sequence[Path],
    root: Path | None = None,
    cache: SpecCache | None = None,
    jobs: int = 1,
) -> tuple[Compilation, list[Document]]:
    """:func:`compile_specs`, also returning the documents it built the rest of the model
    from: foreign ones converted (see compiler.formats) and native ones that are not in
    a file of service specs alone."""
    # Reading specs makes no garbage cycles, only a model that lives on: the collector's
    # passes over it as it grows would find nothing (a compile's workers inherit the pause).
    with collector_paused():
        return _compile_documents(paths, root, cache, jobs)


def _compile_documents(
    paths: Sequence[Path], root: Path | None, cache: SpecCache | None, jobs: int
) -> tuple[Compilation, list[Document]]:
    result = Compilation()
    files, problems = discover(paths)
    result.diagnostics.extend(problems)
    fingerprint = compiler_fingerprint() if cache is not None else ""
    # Every file is read and hashed here, and taken from the cache if it is there; the
    # others are loaded and built, in worker processes when there are enough of them.
    outcomes: list[_FileRead | None] = []
    to_build: dict[int, _ToBuild] = {}
    for index, path in enumerate(files):
        name = display_path(path, root)
        result.files.append(name)
        try:
            raw = read_spec(path, name)
        except SpecError as exc:
            outcomes.append(_FileRead(diagnostics=list(exc.diagnostics)))
            continue
        digest = output_cache.digest(raw)
        result.digests[name] = digest
        key = output_cache.digest(fingerprint, name, digest)
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            outcomes.append(_FileRead(built=cached, diagnostics=_warnings(cached)))
        else:
            outcomes.append(None)
            to_build[index] = _ToBuild(name, raw, key)
    global _READING
    _READING = _Reading(to_build, cache)
    parallel = jobs > 1 and len(to_build) >= _PARALLEL_FROM
    built = ordered_map(_read_file, list(to_build), jobs if parallel else 1)
    try:
        for index, done in zip(to_build, built, strict=True):
            outcomes[index] = done
    finally:
        built.close()
        _READING = _Reading({}, None)
    loaded: list[Document] = []
    alone: list[Built] = []  # from files built on their own, cached or not
    for read in outcomes:
        assert read is not None  # every file was read or built above
        result.diagnostics.extend(read.diagnostics)
        alone.extend(read.built)
        loaded.extend(read.documents)
    # Sloth and OpenSLO documents become native ones here; OpenSLO objects refer to each
    # other across files, so the whole run is converted at once.
    native, found = formats.to_native(loaded)
    result.diagnostics.extend(found)
    services: list[ServiceSpec] = []
    environments: list[Environment] = []
    routings: list[Routing] = []
    services.extend(entry.spec for entry in alone)
    for document in native:
        spec, found = _build(document)
        result.diagnostics.extend(found)
        if isinstance(spec, Routing):
            routings.append(spec)
        elif isinstance(spec, Environment):
            environments.append(spec)
        elif spec is not None:
            services.append(spec)
    result.diagnostics.extend(_cross_file_checks(services))
    result.diagnostics.extend(routing.routing_checks(routings))
    result.diagnostics.extend(signals.pipeline_checks(services))
    if result.ok:  # against services that failed to build, these would only mislead
        result.diagnostics.extend(cross_checks(environments, services))
        for one in routings[:1]:
            owners = [spec.service.owner for spec in services]
            result.diagnostics.extend(routing.team_checks(one, owners))
    if result.ok:
        services = with_span_unit(services, environments)
        result.specs = SpecSet(
            tuple(sorted(services, key=lambda s: s.service.name)),
            routings[0] if routings else None,
            tuple(sorted(environments, key=lambda e: e.name)),
        )
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result, native


@dataclass(frozen=True)
class _ToBuild:
    """A spec file to load and build: its name as shown, its bytes, its cache key."""

    name: str
    raw: bytes
    key: str


@dataclass(frozen=True)
class _Reading:
    """The spec files being built (by index), read by the worker processes."""

    files: Mapping[int, _ToBuild]
    cache: SpecCache | None


_READING = _Reading({}, None)


@dataclass(frozen=True)
class _FileRead:
    """What reading one spec file gave: the services of a file built on its own (cached or
    not), the documents of any other file, and its problems."""

    built: list[Built] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _read_file(index: int) -> _FileRead:
    """Load spec file ``index`` of the files being built, and build it now if it holds
    native service specs alone (then it is cached)."""
    file = _READING.files[index]
    try:
        documents = load_bytes(file.raw, file.name)
    except SpecError as exc:
        return _FileRead(diagnostics=list(exc.diagnostics))
    if not documents:
        where = Location(file.name, 1)
        return _FileRead(diagnostics=[Diagnostic(where, "the file holds no spec")])
    # A file of native service specs that build cleanly is built on its own (and cached);
    # the others go on together: foreign formats are converted across files.
    built = _built_alone(documents)
    if built is None:
        return _FileRead(documents=documents)
    if _READING.cache is not None:
        _READING.cache.put(file.key, built)
    return _FileRead(built=built, diagnostics=_warnings(built))


def _warnings(built: Sequence[Built]) -> list[Diagnostic]:
    return [diagnostic for one in built for diagnostic in one.diagnostics]


def _built_alone(documents: Sequence[Document]) -> list[Built] | None:
    """The services built from a file's documents, if the file holds native service specs
    only and each built without an error (what the spec cache stores); else None."""
    built = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict) or data.get("apiVersion") != NATIVE_API_VERSION:
            return None
        if data.get("kind") in (ENVIRONMENT_KIND, routing.KIND):
            return None
        spec, found = _build(document)
        if not isinstance(spec, ServiceSpec) or errors(found):
            return None
        built.append(Built(spec, tuple(found)))
    return built


def _build(
    document: Document,
) -> tuple[ServiceSpec | Routing | Environment | None, list[Diagnostic]]:
    data = document.data
    if not isinstance(data, dict):
        return None, [Diagnostic(document.locate(()), "a spec must be a mapping of fields")]
    version = data.get("apiVersion")
    if version != NATIVE_API_VERSION:
        shown = f"'{version}'" if version is not None else "missing"
        others = "" if str(version).startswith("slo-compiler/") else f" ({formats.SUPPORTED})"
        return None, [
            Diagnostic(
                document.locate(("apiVersion",)),
                f"apiVersion {shown}: expected {NATIVE_API_VERSION}{others}",
            )
        ]
    if data.get("kind") == ENVIRONMENT_KIND:
        return build_environment(document)
    if data.get("kind") == routing.KIND:
        return routing.build_routing(document)
    found = check(document, "spec-v1.schema.json")
    if found:
        return None, found
    return build_service(document)


def _cross_file_checks(services: Iterable[ServiceSpec]) -> list[Diagnostic]:
    problems = []
    first: dict[str, ServiceSpec] = {}
    for spec in services:
        name = spec.service.name
        if name in first:
            problems.append(
                Diagnostic(
                    spec.location,
                    f"service '{name}' is also defined in {first[name].source}",
                )
            )
        else:
            first[name] = spec
    return problems + uid_clashes(first.values())


def outputs(specs: SpecSet) -> list[OutputFile]:
    """Every output file of every target."""
    return list(stream(specs))


def stream(
    specs: SpecSet,
    cache: OutputCache | None = None,
    digests: Mapping[str, str] | None = None,
    jobs: int = 1,
) -> Iterator[OutputFile]:
    """Every output file of every target, each service's built when it is asked for: a
    consumer that writes them one by one holds a few services' outputs at a time.

    With ``cache`` and the ``digests`` of the spec files (Compilation.digests), a service
    whose inputs are unchanged is not rebuilt: its files come from the cache as bytes.
    ``jobs`` > 1: services to build are built (and serialized) in that many processes,
    when there are enough of them to pay for the processes.
    """
    with long_lived():  # the specs outlive the building: the collector need not walk them
        yield from _stream(specs, cache, digests, jobs)


def _stream(
    specs: SpecSet,
    cache: OutputCache | None,
    digests: Mapping[str, str] | None,
    jobs: int,
) -> Iterator[OutputFile]:
    keys = _cache_keys(specs, digests or {}) if cache is not None else {}
    found: dict[int, list[CachedFile]] = {}
    to_build = []
    for index, spec in enumerate(specs.services):
        key = keys.get(spec.source)
        # An entry is read (and checked) when its turn comes, so that no more than a few
        # services' bytes are held at a time; one that fails its check is built then.
        if cache is not None and key is not None and cache.has(key):
            found[index] = []
        else:
            to_build.append(index)
    shapes = promtool_files.shapes_of(specs)
    shape_keys = [_shape_key(shape, keys) if cache is not None else None for shape in shapes]
    parallel = jobs > 1 and len(to_build) >= _PARALLEL_FROM
    work: list[_Work] = []
    if parallel:
        # The rule shapes' scenario plans first: the SLOs' own tests start from them, and
        # worker processes forked after this inherit them instead of planning them again.
        promtool_files.plan_shapes(shapes)
        # Services to build, then the shapes not in the cache, then the whole set's files:
        # in the order they are yielded.
        work = [("service", index) for index in to_build]
        work += [
            ("shape", i)
            for i, key in enumerate(shape_keys)
            if cache is None or key is None or not cache.has(key)
        ]
        work += [("set", i) for i in range(len(SET_TARGETS))]
    global _BUILDING
    _BUILDING = _Building(specs, tuple(shapes))
    built = ordered_map(_build_work, work, jobs)  # forks now, before anything is yielded
    try:
        for index, spec in enumerate(specs.services):
            key = keys.get(spec.source)
            files = None
            if index in found and cache is not None and key is not None:
                files = cache.get(key)  # None only if the entry changed meanwhile
            if files is None:
                if not parallel or index in found:
                    outputs = [file for target in SERVICE_TARGETS for file in target(spec)]
                    if cache is None or key is None:  # as plain data, as the targets made it
                        yield from outputs
                        continue
                    files = [_serialized(file) for file in outputs]
                else:
                    files = next(built)
                if cache is not None and key is not None:
                    cache.put(key, files)
            yield from _as_outputs(files)
        sent = {index for kind, index in work if kind == "shape"}  # built by the workers
        for i, shape in enumerate(shapes):
            key = shape_keys[i]
            files = None
            if i not in sent and cache is not None and key is not None:
                files = cache.get(key)
            if files is None:
                if i in sent:
                    files = next(built)
                elif cache is None or key is None:  # as plain data, as the target made it
                    yield from promtool_files.shape_test_files(shape)
                    continue
                else:
                    files = [_serialized(f) for f in promtool_files.shape_test_files(shape)]
                if cache is not None and key is not None:
                    cache.put(key, files)
            yield from _as_outputs(files)
        for target in SET_TARGETS:
            yield from _as_outputs(next(built)) if parallel else target(specs)
    finally:
        built.close()
        _BUILDING = _Building(SpecSet(), ())


def _shape_key(shape: promtool_files.Shape, keys: Mapping[str, str]) -> str | None:
    """A rule shape's cache key: the key of the service whose SLO its tests run against,
    and the shape's own key, that SLO and the shape's owners; None if that service has none."""
    service_key = keys.get(shape.spec.source)
    if service_key is None:
        return None
    return output_cache.digest(
        service_key, "shape", shape.key, shape.slo.name, str(shape.count), *shape.owners
    )


def _as_outputs(files: Iterable[CachedFile]) -> Iterator[OutputFile]:
    for file in files:
        yield OutputFile(file.path, None, file.root, source=file.source, text=file.data)


@dataclass(frozen=True)
class _Building:
    """The set being built, read by the worker processes (forked: nothing is pickled)."""

    specs: SpecSet
    shapes: tuple[promtool_files.Shape, ...]


_BUILDING = _Building(SpecSet(), ())
# Fewer services than this are built in this process: starting workers costs more.
_PARALLEL_FROM = 16
# What a worker builds: a service's files, a rule shape's, or a target's for the whole set.
_Work = tuple[str, int]


def _build_work(work: _Work) -> list[CachedFile]:
    """The output files of one piece of work on the set being built, serialized."""
    kind, index = work
    if kind == "service":
        spec = _BUILDING.specs.services[index]
        outputs = [file for target in SERVICE_TARGETS for file in target(spec)]
    elif kind == "shape":
        outputs = promtool_files.shape_test_files(_BUILDING.shapes[index])
    else:
        outputs = SET_TARGETS[index](_BUILDING.specs)
    return [_serialized(file) for file in outputs]


def _serialized(file: OutputFile) -> CachedFile:
    return CachedFile(file.root, file.path, file.source, writer.serialize(file))


def _cache_keys(specs: SpecSet, digests: Mapping[str, str]) -> dict[str, str]:
    """Each service's cache key (by its source): its spec files' bytes, the documents every
    service is built with (environments, routing), the compiler's code and templates. A
    service whose files are not all known gets none, and is always built."""
    shared_sources = [environment.source for environment in specs.environments]
    if specs.routing is not None:
        shared_sources.append(specs.routing.source)
    if any(source not in digests for source in shared_sources):
        return {}
    shared = [digests[source] for source in sorted(shared_sources)]
    base = [compiler_fingerprint(), *shared]
    keys = {}
    for spec in specs.services:
        names = spec.source.split(", ")
        if all(name in digests for name in names):
            keys[spec.source] = output_cache.digest(
                *base, spec.source, *(digests[n] for n in names)
            )
    return keys


def compiler_fingerprint() -> str:
    """A hash of what this compiler builds outputs with: its code, schemas and templates
    (the shipped ones, and those $SLO_COMPILER_TEMPLATES names), the interpreter and the
    libraries that read specs and write outputs."""
    code = output_cache.tree_digest([resources.files("compiler"), *templating.template_dirs()])
    return output_cache.digest(code, sys.version, *_library_versions())


# The libraries whose behaviour decides what a spec builds to (parsing, checking, texts).
_LIBRARIES = ("PyYAML", "jsonschema", "Jinja2", "promql-parser", "grafana-foundation-sdk")


def _library_versions() -> list[str]:
    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} -")
    return versions
