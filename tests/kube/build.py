"""Build the test control plane (kube-apiserver and etcd) from their Go modules, once per version.

``make test`` runs ``python -m tests.kube.build`` before pytest. The binaries land in
``${XDG_CACHE_HOME:-~/.cache}/tagpilot/kube/<k8s>-<etcd>/``; a run that finds them there does
nothing. Go is test infrastructure only: nothing here is part of the product.

Neither binary can be built with ``go install pkg@version``: both modules carry ``replace``
lines (k8s.io/kubernetes requires its staging modules at ``v0.0.0`` replaced by
``./staging/...``; etcd's server replaces its siblings by ``../``). So each is built from a
small helper module generated into the cache directory: it requires the upstream module and,
for kube-apiserver, replaces every staging module by its published ``v0.<minor>.<patch>`` tag.
The list of staging modules is read from k8s.io/kubernetes's own go.mod, not hard-coded.
The two helper modules are separate so the two dependency graphs never mix.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUILD_COMMAND",
    "ETCD_VERSION",
    "K8S_VERSION",
    "BuildError",
    "ControlPlaneBinaries",
    "apiserver_go_mod",
    "apiserver_ldflags",
    "binaries",
    "ensure_built",
    "etcd_go_mod",
    "main",
    "staging_modules",
]

K8S_VERSION = "v1.37.2"
"""The newest k8s.io/kubernetes whose ``go`` directive (1.26.0) the machine's Go accepts."""

ETCD_VERSION = "v3.7.3"
"""The etcd server of the minor release k8s.io/kubernetes v1.37 itself requires (v3.7)."""

BUILD_COMMAND = "make kube-binaries  (or: .venv/bin/python -m tests.kube.build)"
"""What to run when the binaries are missing."""

_APISERVER_PACKAGE = "k8s.io/kubernetes/cmd/kube-apiserver"
_ETCD_PACKAGE = "go.etcd.io/etcd/server/v3"
_STAGING_REPLACE = re.compile(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/src/\1\s*$", re.MULTILINE)
_GODEBUG = re.compile(r"^godebug\s.*$", re.MULTILINE)
_GO_DIRECTIVE = re.compile(r"^go\s+(\S+)\s*$", re.MULTILINE)


class BuildError(Exception):
    """A step of the build failed; the message says which step and why."""


@dataclass(frozen=True)
class ControlPlaneBinaries:
    """Where the binaries of one (k8s, etcd) version pair live in the cache."""

    k8s_version: str
    etcd_version: str
    directory: Path

    @property
    def kube_apiserver(self) -> Path:
        """The kube-apiserver executable."""
        return self.directory / "kube-apiserver"

    @property
    def etcd(self) -> Path:
        """The etcd executable."""
        return self.directory / "etcd"

    def missing(self) -> list[Path]:
        """The executables not built yet."""
        return [path for path in (self.kube_apiserver, self.etcd) if not path.is_file()]


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/tagpilot/kube``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tagpilot" / "kube"


def binaries(k8s: str = K8S_VERSION, etcd: str = ETCD_VERSION) -> ControlPlaneBinaries:
    """The cache slot for one version pair (whether built or not)."""
    return ControlPlaneBinaries(k8s, etcd, cache_root() / f"{k8s}-{etcd}")


def staging_modules(kubernetes_go_mod: str) -> list[str]:
    """The modules k8s.io/kubernetes's go.mod replaces by its own ``./staging`` tree."""
    return sorted(set(_STAGING_REPLACE.findall(kubernetes_go_mod)))


def _staging_version(k8s_version: str) -> str:
    """Staging modules are tagged ``v0.<minor>.<patch>`` for kubernetes ``v1.<minor>.<patch>``."""
    major, _, rest = k8s_version.partition(".")
    if major != "v1" or not rest:
        raise BuildError(
            f"unexpected k8s.io/kubernetes version {k8s_version!r}: want v1.<minor>.<patch>"
        )
    return f"v0.{rest}"


def apiserver_go_mod(k8s_version: str, kubernetes_go_mod: str) -> str:
    """The helper module that builds kube-apiserver at ``k8s_version``."""
    modules = staging_modules(kubernetes_go_mod)
    if not modules:
        raise BuildError(f"k8s.io/kubernetes {k8s_version}: its go.mod replaces no staging module")
    go = _GO_DIRECTIVE.search(kubernetes_go_mod)
    staging = _staging_version(k8s_version)
    lines = ["module tagpilot.test/kube-apiserver", "", f"go {go[1] if go else '1.26.0'}", ""]
    lines += [*_GODEBUG.findall(kubernetes_go_mod), "", f"require k8s.io/kubernetes {k8s_version}"]
    lines += ["", "replace ("]
    lines += [f"\t{module} => {module} {staging}" for module in modules]
    return "\n".join([*lines, ")", ""])


def etcd_go_mod(etcd_version: str) -> str:
    """The helper module that builds the etcd server at ``etcd_version``."""
    return f"module tagpilot.test/etcd\n\ngo 1.26.0\n\nrequire {_ETCD_PACKAGE} {etcd_version}\n"


def apiserver_ldflags(k8s_version: str, build_date: str) -> str:
    """``-ldflags`` that make ``/version`` report ``k8s_version`` instead of ``v0.0.0-master``."""
    major, minor = k8s_version.removeprefix("v").split(".")[:2]
    values = {
        "gitVersion": k8s_version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{name}={value}" for name, value in values.items()]
    return " ".join(flags)


def _say(message: str) -> None:
    print(f"[kube] {message}", flush=True)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    # A helper module must not be taken for part of an enclosing workspace.
    env["GOWORK"] = "off"
    return env


def _go(args: Sequence[str], cwd: Path, what: str, capture: bool = False) -> str:
    """Run ``go args`` in ``cwd``; its progress goes to our stderr as it comes."""
    go = shutil.which("go")
    if go is None:
        raise BuildError(f"{what}: the `go` command is not installed (Go 1.26 or newer is needed)")
    result = subprocess.run(
        [go, *args],
        cwd=cwd,
        env=_go_env(),
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(
            f"{what}: `go {' '.join(args)}` exited with {result.returncode} (see above)"
        )
    return result.stdout if capture else ""


def _kubernetes_go_mod(version: str, scratch: Path) -> str:
    """k8s.io/kubernetes's own go.mod, as the module proxy serves it."""
    out = _go(
        ["mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        scratch,
        f"downloading k8s.io/kubernetes {version}",
        capture=True,
    )
    info = json.loads(out)
    if info.get("Error") or not info.get("GoMod"):
        raise BuildError(
            f"downloading k8s.io/kubernetes {version}: {info.get('Error', 'no go.mod')}"
        )
    return Path(info["GoMod"]).read_text()


def _helper_module(
    slot: Path, name: str, go_mod: Callable[[], str], package: str, version: str
) -> Path:
    """Write the helper module and resolve its go.sum; a module directory is complete or absent."""
    module = slot / "modules" / name
    if (module / "go.sum").is_file():
        return module
    module.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=module.parent))
    try:
        (staging / "go.mod").write_text(go_mod())
        what = f"resolving the modules of {package} {version}"
        _go(["get", f"{package}@{version}"], staging, what)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(module, ignore_errors=True)
    staging.rename(module)
    return module


def _build(module: Path, package: str, ldflags: str, output: Path, label: str) -> None:
    partial = output.with_name(output.name + ".partial")
    started = time.monotonic()
    _go(
        ["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", str(partial), package],
        module,
        f"building {label}",
    )
    partial.rename(output)
    _say(f"built {label} in {time.monotonic() - started:.0f} s: {output}")


def _build_apiserver(target: ControlPlaneBinaries) -> None:
    label = f"kube-apiserver {target.k8s_version}"
    _say(f"building {label} (first run only, ~15 min on 2 cores)")

    def go_mod() -> str:
        with tempfile.TemporaryDirectory() as scratch:
            upstream = _kubernetes_go_mod(target.k8s_version, Path(scratch))
        return apiserver_go_mod(target.k8s_version, upstream)

    module = _helper_module(
        target.directory, "kube-apiserver", go_mod, _APISERVER_PACKAGE, target.k8s_version
    )
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ldflags = apiserver_ldflags(target.k8s_version, date)
    _build(module, _APISERVER_PACKAGE, ldflags, target.kube_apiserver, label)


def _build_etcd(target: ControlPlaneBinaries) -> None:
    label = f"etcd {target.etcd_version}"
    _say(f"building {label} (first run only, ~3 min on 2 cores)")
    module = _helper_module(
        target.directory,
        "etcd",
        lambda: etcd_go_mod(target.etcd_version),
        _ETCD_PACKAGE,
        target.etcd_version,
    )
    # etcd's version is a constant of its api module: no -X flag is needed for it.
    _build(module, _ETCD_PACKAGE, "-s -w", target.etcd, label)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One build per cache slot at a time: a second ``make test`` waits, then finds it built."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_built(target: ControlPlaneBinaries) -> None:
    """Build whatever of ``target`` is missing; do nothing when both binaries are there."""
    if not target.missing():
        return
    with _locked(target.directory):
        if not target.etcd.is_file():
            _build_etcd(target)
        if not target.kube_apiserver.is_file():
            _build_apiserver(target)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build what is missing, or print where the binaries are."""
    parser = argparse.ArgumentParser(prog="python -m tests.kube.build", description=__doc__)
    parser.add_argument("--k8s", default=K8S_VERSION, help="k8s.io/kubernetes version")
    parser.add_argument("--etcd", default=ETCD_VERSION, help="go.etcd.io/etcd/server/v3 version")
    parser.add_argument("--print-dir", action="store_true", help="print the cache slot and exit")
    args = parser.parse_args(argv)
    target = binaries(args.k8s, args.etcd)
    if args.print_dir:
        print(target.directory)
        return 0
    try:
        ensure_built(target)
    except BuildError as exc:
        print(f"[kube] build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
