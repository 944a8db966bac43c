"""Build Flux's image controllers from their Go modules, once per version, for the cluster bench.

``make flux-binaries`` (``python -m tests.kube.flux_build``) builds image-reflector-controller
and image-automation-controller into ``${XDG_CACHE_HOME:-~/.cache}/tagpilot/flux/<versions>/``
and gathers the upstream CRDs the benchmark applies: Flux's own ``config/crd/bases`` from each
module, and source-controller's GitRepository CRD (downloaded, never built). A run that finds
everything there does nothing. This is benchmark infrastructure: ``make test`` never builds it.

Each controller is built from a helper module generated into the cache directory, because its
go.mod carries ``replace <module>/api => ./api``: the helper requires the controller and its api
module at the same published tag and copies the controller's other ``replace`` lines (pinned
forks such as go-digest), dropping only the local ones. Flux's modules declare ``go 1.27``, newer
than the machine's Go, so every ``go`` command here runs with ``GOTOOLCHAIN`` set to a 1.27
toolchain, which the module proxy serves like any module.

When the module proxy refuses a controller's module or one of its dependencies (a proxy may
answer 403 "This module version is not available"; one has refused both image controllers,
and fluxcd/pkg/artifact, pkg/spiffe and sigstore/cosign that source-controller needs; or 404
for a module it lists no version of at all, as for pkg/apis/crypto, pkg/spiffe, pkg/http/fetch
and pkg/masktoken that kustomize-controller needs), the controller cannot be built there: the
CRDs are then generated from the published api modules with controller-gen, the way Flux's own
Makefile makes ``config/crd/bases``, the refusal is recorded in the slot, and the benchmark
reports the Flux half as not available.

kustomize-controller (``bench_apply``) has a slot of its own (:func:`kustomize_binaries`,
:func:`ensure_kustomize_built`): the controller only, its CRDs taken from its module; a
refusal is recorded the same way and nothing is generated in its place.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AUTOMATION",
    "CONTROLLERS",
    "CONTROLLER_GEN_VERSION",
    "FLUX_BUILD_COMMAND",
    "FLUX_TOOLCHAIN",
    "KUSTOMIZE",
    "KUSTOMIZE_VERSION",
    "REFLECTOR",
    "SOURCE_VERSION",
    "VERSIONS",
    "FluxBinaries",
    "FluxBuildError",
    "controller_go_mod",
    "ensure_built",
    "ensure_kustomize_built",
    "flux_binaries",
    "kustomize_binaries",
    "main",
    "missing_modules",
    "newest_release",
    "refused_modules",
]

REFLECTOR = "image-reflector-controller"
AUTOMATION = "image-automation-controller"
CONTROLLERS = (REFLECTOR, AUTOMATION)

VERSIONS = {REFLECTOR: "v1.3.0", AUTOMATION: "v1.3.0"}
KUSTOMIZE = "kustomize-controller"
KUSTOMIZE_VERSION = "v1.10.1"
"""The kustomize-controller ``bench_apply`` compares with (its api module carries the tag)."""
"""The newest release of each controller: the tags its published ``api`` module carries."""

SOURCE_VERSION = "v1.10.1"
"""source-controller, for the GitRepository CRD only (the release image-automation v1.3 uses)."""

CONTROLLER_GEN_VERSION = "v0.21.0"
"""The controller-gen Flux's Makefiles pin for these releases, to make the CRDs when a
controller's module is refused (``crd:crdVersions=v1``, as their ``CRD_OPTIONS`` say)."""

FLUX_TOOLCHAIN = "go1.27.3"
"""Flux's go.mod files say ``go 1.27.0``; the machine's Go is older and fetches this one."""

FLUX_BUILD_COMMAND = "make flux-binaries  (or: .venv/bin/python -m tests.kube.flux_build)"
"""What to run when the binaries or CRDs are missing."""

_FLUX = "github.com/fluxcd"
_CONTROLLER_GEN = "sigs.k8s.io/controller-tools/cmd/controller-gen"
_REPLACE_LINE = re.compile(r"^\s*(\S+(?:\s+v\S+)?)\s*=>\s*(\S+(?:\s+v\S+)?)\s*$")
_REPLACE_ONE = re.compile(r"^replace\s+(?!\()(.+)$", re.MULTILINE)
_REPLACE_BLOCK = re.compile(r"^replace\s*\((.*?)^\)", re.MULTILINE | re.DOTALL)
_GO_DIRECTIVE = re.compile(r"^go\s+(\S+)\s*$", re.MULTILINE)
_GODEBUG = re.compile(r"^godebug\s.*$", re.MULTILINE)
_REFUSED = re.compile(r"(\d{3} \w[\w ]*)\n\s*server response: ([^\n]+)")
_REFUSED_MODULE = re.compile(r"([\w.~/-]+@v[\w.+-]+): reading \S+: 403 ")
_MISSING_MODULE = re.compile(r"([\w.~/-]+@v[\w.+-]+): reading \S+: 404 ")


class FluxBuildError(Exception):
    """A step of the build failed; the message says which step and why."""


class ModuleRefusedError(FluxBuildError):
    """The module proxy will not serve a module: nothing on this machine can build it."""


@dataclass(frozen=True)
class FluxBinaries:
    """Where one set of Flux versions lives in the cache: controllers, their CRDs, tools."""

    versions: tuple[tuple[str, str], ...]
    """(controller, version) pairs, in the order of :data:`CONTROLLERS`."""
    source_version: str
    directory: Path

    def executable(self, controller: str) -> Path:
        """The built controller (whether it exists or not)."""
        return self.directory / controller

    def version(self, controller: str) -> str:
        """The release of ``controller`` this slot holds."""
        return dict(self.versions)[controller]

    @property
    def crd_dir(self) -> Path:
        """Every upstream CRD the benchmark applies: the image API's and GitRepository's."""
        return self.directory / "crds"

    @property
    def refusals(self) -> Path:
        """Why a controller could not be built, one line each, written by the last build."""
        return self.directory / "not-built.txt"

    def crds(self) -> list[Path]:
        """The CRD files gathered in :attr:`crd_dir` (empty until built)."""
        return sorted(self.crd_dir.glob("*.yaml")) if self.crd_dir.is_dir() else []

    def missing(self) -> list[Path]:
        """The controllers not built yet (plus the CRD directory when it is missing)."""
        wanted = [self.executable(name) for name, _ in self.versions]
        missing = [path for path in wanted if not path.is_file()]
        return missing + ([] if self.crds() else [self.crd_dir])

    def why_missing(self, controller: str) -> str:
        """Why the last build could not build ``controller`` ('' when it said nothing)."""
        lines = self.refusals.read_text().splitlines() if self.refusals.is_file() else []
        found = [line.split(": ", 1)[1] for line in lines if line.startswith(f"{controller}: ")]
        return found[0] if found else ""


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/tagpilot/flux``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tagpilot" / "flux"


def flux_binaries(
    versions: dict[str, str] | None = None, source_version: str = SOURCE_VERSION
) -> FluxBinaries:
    """The cache slot for one set of versions (whether built or not)."""
    chosen = {**VERSIONS, **(versions or {})}
    pairs = tuple((name, chosen[name]) for name in CONTROLLERS)
    slot = "_".join(f"{name.removesuffix('-controller')}-{version}" for name, version in pairs)
    return FluxBinaries(pairs, source_version, cache_root() / slot)


# -- the helper module ---------------------------------------------------------------------


def _replace_lines(go_mod: str) -> list[tuple[str, str]]:
    """Every ``replace`` of a go.mod as (old, new), from single lines and blocks alike."""
    lines = _REPLACE_ONE.findall(go_mod)
    for block in _REPLACE_BLOCK.findall(go_mod):
        lines += block.splitlines()
    pairs = []
    for line in lines:
        match = _REPLACE_LINE.match(line.split("//", 1)[0])  # module paths never hold "//"
        if match:
            pairs.append((" ".join(match[1].split()), " ".join(match[2].split())))
    return pairs


def controller_go_mod(module: str, version: str, upstream_go_mod: str) -> str:
    """The helper module that builds ``module@version``, from the controller's own go.mod.

    The local ``<module>/api => ./api`` replacement (and any other ``./`` or ``../`` one) is
    dropped and the api module is required at the controller's own tag; every other
    replacement is copied, so the build pins what upstream pins.
    """
    go = _GO_DIRECTIVE.search(upstream_go_mod)
    kept = [
        (old, new)
        for old, new in _replace_lines(upstream_go_mod)
        if not new.startswith(("./", "../"))
    ]
    name = module.rsplit("/", 1)[-1]
    lines = [f"module tagpilot.test/{name}", "", f"go {go[1] if go else '1.27.0'}", ""]
    godebug = _GODEBUG.findall(upstream_go_mod)
    lines += [*godebug, ""] if godebug else []
    lines += ["require (", f"\t{module} {version}", f"\t{module}/api {version}", ")"]
    if kept:
        lines += ["", "replace ("]
        lines += [f"\t{old} => {new}" for old, new in kept]
        lines += [")"]
    return "\n".join([*lines, ""])


# -- running go ----------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[flux] {message}", flush=True)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    env["GOWORK"] = "off"  # a helper module must not join an enclosing workspace
    env["GOTOOLCHAIN"] = FLUX_TOOLCHAIN
    return env


def refused_modules(go_output: str) -> list[str]:
    """The ``module@version`` the module proxy refused (HTTP 403), from a go command's output."""
    return sorted(set(_REFUSED_MODULE.findall(go_output)))


def missing_modules(go_output: str) -> list[str]:
    """The ``module@version`` the module proxy answered 404 for, from a go command's output."""
    return sorted(set(_MISSING_MODULE.findall(go_output)))


def _unserved(modules: Sequence[str]) -> list[str]:
    """Of the modules answered 404, those the proxy lists no version of at all: a module it
    does not serve, rather than a version that does not exist."""
    unserved = []
    go = shutil.which("go") or "go"
    for found in modules:
        with tempfile.TemporaryDirectory() as scratch:
            listed = subprocess.run(
                [go, "list", "-m", "-versions", found.split("@", 1)[0]],
                cwd=scratch, env=_go_env(), capture_output=True, text=True, check=False,
            )  # fmt: skip
        if listed.returncode != 0 or not listed.stdout.split()[1:]:
            unserved.append(found)
    return unserved


def _go(args: Sequence[str], cwd: Path, what: str, capture: bool = False) -> str:
    """Run ``nice go args`` in ``cwd``; its messages are passed on to our stderr."""
    go = shutil.which("go")
    if go is None:
        raise FluxBuildError(f"{what}: the `go` command is not installed (Go 1.26 or newer)")
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    result = subprocess.run(
        [*nice, go, *args],
        cwd=cwd,
        env=_go_env(),
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        refused = refused_modules(result.stderr)
        unserved = _unserved(missing_modules(result.stderr))
        if refused or unserved:
            # A dependency refused is as final as the controller's own module refused.
            parts = [f"refuses {', '.join(refused)} (HTTP 403)"] if refused else []
            if unserved:
                parts.append(f"serves no version of {', '.join(unserved)} (HTTP 404)")
            raise ModuleRefusedError(
                f"the Go module proxy {' and '.join(parts)}, needed for {what}"
            )
        raise FluxBuildError(f"{what}: `go {' '.join(args)}` exited with {result.returncode}")
    return result.stdout if capture else ""


def _download(module: str, version: str) -> Path:
    """The module's directory in the module cache, downloaded through the proxy if needed."""
    with tempfile.TemporaryDirectory() as scratch:
        go = shutil.which("go") or "go"
        result = subprocess.run(
            [go, "mod", "download", "-json", f"{module}@{version}"],
            cwd=scratch, env=_go_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        info = {"Error": result.stderr.strip() or f"exit status {result.returncode}"}
    error = str(info.get("Error") or "")
    if error:
        refused = _REFUSED.search(error)
        if refused:
            raise ModuleRefusedError(
                f"the Go module proxy refuses {module}@{version} "
                f"({refused[1]}: {refused[2].strip()})"
            )
        raise FluxBuildError(f"downloading {module}@{version}: {error}")
    return Path(info["Dir"])


def newest_release(module: str) -> str:
    """The newest tagged release of ``module`` that the module proxy lists."""
    with tempfile.TemporaryDirectory() as scratch:
        out = _go(["list", "-m", "-versions", module], Path(scratch), f"listing {module}", True)
    versions = [v for v in out.split()[1:] if "-" not in v]
    if not versions:
        raise FluxBuildError(f"the module proxy lists no release of {module}")
    return versions[-1]


def _helper_module(directory: Path, go_mod: str, package: str, what: str) -> Path:
    """Write a helper module and resolve its go.sum; the directory is complete or absent."""
    if (directory / "go.sum").is_file():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        (staging / "go.mod").write_text(go_mod)
        _go(["mod", "download"], staging, what)
        _go(["get", package], staging, what)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    return directory


def _build(module: Path, package: str, output: Path, label: str) -> None:
    partial = output.with_name(output.name + ".partial")
    started = time.monotonic()
    args = ["build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), package]
    _go(args, module, f"building {label}")
    partial.rename(output)
    size = output.stat().st_size / 1e6
    _say(f"built {label} in {time.monotonic() - started:.0f} s ({size:.0f} MB): {output}")


# -- the steps -----------------------------------------------------------------------------


def _build_controller(target: FluxBinaries, name: str) -> Path:
    """Build one controller; return its module directory (its CRDs are in there)."""
    module, version = f"{_FLUX}/{name}", target.version(name)
    label = f"{name} {version}"
    source = _download(module, version)
    _say(f"building {label} (first run only, several minutes on 2 cores)")
    go_mod = controller_go_mod(module, version, (source / "go.mod").read_text())
    helper = target.directory / "modules" / name
    _helper_module(helper, go_mod, f"{module}@{version}", f"resolving the modules of {label}")
    _build(helper, module, target.executable(name), label)
    return source


def _controller_gen(target: FluxBinaries) -> Path:
    tool = target.directory / "tools" / f"controller-gen-{CONTROLLER_GEN_VERSION}"
    if tool.is_file():
        return tool
    tool.parent.mkdir(parents=True, exist_ok=True)
    _say(f"building controller-gen {CONTROLLER_GEN_VERSION} (first run only, 1 to 5 min)")
    go_mod = (
        "module tagpilot.test/controller-gen\n\ngo 1.26.0\n\n"
        f"require sigs.k8s.io/controller-tools {CONTROLLER_GEN_VERSION}\n"
    )
    helper = _helper_module(
        target.directory / "modules" / f"controller-gen-{CONTROLLER_GEN_VERSION}",
        go_mod,
        f"{_CONTROLLER_GEN}@{CONTROLLER_GEN_VERSION}",
        "resolving controller-gen's modules",
    )
    _build(helper, _CONTROLLER_GEN, tool, f"controller-gen {CONTROLLER_GEN_VERSION}")
    return tool


def _generated_crds(target: FluxBinaries, name: str) -> Path:
    """``config/crd/bases`` made from the controller's published api module, as Flux makes it."""
    out = target.directory / "generated" / f"controller-gen-{CONTROLLER_GEN_VERSION}" / name
    if any(out.glob("*.yaml")):
        return out
    module, version = f"{_FLUX}/{name}/api", target.version(name)
    api = _download(module, version)
    tool = _controller_gen(target)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "api"
        shutil.copytree(api, work)
        for path in [work, *work.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # the module cache is read-only
        _go(["mod", "download"], work, f"downloading the modules of {module}@{version}")
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        args = ["crd:crdVersions=v1", "paths=./...", f"output:crd:artifacts:config={partial}"]
        result = subprocess.run(
            [str(tool), *args], cwd=work, env=_go_env(), stdout=sys.stderr, check=False
        )
        if result.returncode != 0:
            what = f"generating the CRDs of {module}@{version}"
            raise FluxBuildError(f"{what}: controller-gen exited with {result.returncode}")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out


def _gather_crds(target: FluxBinaries, bases: dict[str, Path]) -> None:
    """Copy the CRDs into one directory: each controller's, and GitRepository's."""
    source = _download(f"{_FLUX}/source-controller", target.source_version)
    files = [source / "config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml"]
    for base in bases.values():
        files += sorted(base.glob("*.yaml"))
    partial = target.crd_dir.with_name("crds.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for file in files:
        shutil.copyfile(file, partial / file.name)
    shutil.rmtree(target.crd_dir, ignore_errors=True)
    partial.rename(target.crd_dir)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One build per cache slot at a time: a second run waits, then finds it built."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_built(target: FluxBinaries) -> list[str]:
    """Build what is missing; return why a controller could not be built (empty: all built).

    A refused module is not an error here: the CRDs are still made, and the reason is
    recorded in the slot for the benchmark to report. Any other failure raises.
    """
    if not target.missing():
        return []
    with _locked(target.directory):
        bases: dict[str, Path] = {}
        refused: list[str] = []
        for name, _ in target.versions:
            try:
                if target.executable(name).is_file():
                    module = _download(f"{_FLUX}/{name}", target.version(name))
                else:
                    module = _build_controller(target, name)
                bases[name] = module / "config" / "crd" / "bases"
            except ModuleRefusedError as exc:
                _say(f"{exc}: its CRDs are made from its api module instead")
                refused.append(f"{name}: {exc}")
                bases[name] = _generated_crds(target, name)
        _gather_crds(target, bases)
        target.refusals.write_text("".join(f"{line}\n" for line in refused))
        return refused


def kustomize_binaries(version: str = KUSTOMIZE_VERSION) -> FluxBinaries:
    """The cache slot of kustomize-controller ``version`` (whether built or not)."""
    slot = cache_root() / f"kustomize-{version}"
    return FluxBinaries(((KUSTOMIZE, version),), SOURCE_VERSION, slot)


def ensure_kustomize_built(target: FluxBinaries) -> str:
    """Build kustomize-controller and gather its CRDs unless done; why it cannot be built
    ('' when it is). The attempt is made on every call, so a proxy that serves the modules
    later makes the benchmark run with no change."""
    if not target.missing():
        return ""
    with _locked(target.directory):
        try:
            if target.executable(KUSTOMIZE).is_file():
                source = _download(f"{_FLUX}/{KUSTOMIZE}", target.version(KUSTOMIZE))
            else:
                source = _build_controller(target, KUSTOMIZE)
        except ModuleRefusedError as exc:
            target.refusals.write_text(f"{KUSTOMIZE}: {exc}\n")
            return str(exc)
        shutil.rmtree(target.crd_dir, ignore_errors=True)
        shutil.copytree(source / "config" / "crd" / "bases", target.crd_dir)
        for path in [target.crd_dir, *target.crd_dir.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # the module cache is read-only
        target.refusals.write_text("")
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build what is missing, or print where things are."""
    parser = argparse.ArgumentParser(prog="python -m tests.kube.flux_build", description=__doc__)
    for name in CONTROLLERS:
        option = "--" + name.removesuffix("-controller")
        parser.add_argument(option, default=VERSIONS[name], help=f"{name} version")
    parser.add_argument("--newest", action="store_true", help="ask the proxy for the newest tags")
    parser.add_argument("--print-dir", action="store_true", help="print the cache slot and exit")
    args = parser.parse_args(argv)
    try:
        versions = {
            name: newest_release(f"{_FLUX}/{name}/api")
            if args.newest
            else getattr(args, name.removesuffix("-controller").replace("-", "_"))
            for name in CONTROLLERS
        }
        target = flux_binaries(versions)
        if args.print_dir:
            print(target.directory)
            return 0
        refused = ensure_built(target)
        kustomize = ensure_kustomize_built(kustomize_binaries())
        refused += [f"{KUSTOMIZE}: {kustomize}"] if kustomize else []
    except FluxBuildError as exc:
        print(f"[flux] build failed: {exc}", file=sys.stderr)
        return 1
    if refused:
        for line in refused:
            print(f"[flux] not built: {line}", file=sys.stderr)
        print(f"[flux] only the CRDs are ready, in {target.crd_dir}", file=sys.stderr)
        return 2
    _say(f"controllers and CRDs ready in {target.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
