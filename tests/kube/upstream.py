"""Flux's own Go modules, fetched at test time: reference data for compatibility tests.

``flux_module(module, version)`` downloads a module through the Go module proxy (``go mod
download -json``) and returns its unpacked, read-only directory in Go's module cache.
Nothing from it is ever copied into the repository.

``upstream_crd(group, plural)`` returns Flux's CRD for a kind as parsed YAML.  The source
kinds come from source-controller's ``config/crd/bases``.  The module proxy these tests
run against does not serve the image controllers' and kustomize-controller's root
modules (it answers 403), only their ``api`` modules, so for those kinds the CRD is
generated from the ``api`` module the way Flux's Makefile does it:
``controller-gen crd:crdVersions=v1 paths=./...`` with the controller-gen version Flux
pins.  That this reproduces the released files byte for byte is checked on
source-controller, whose module has both (``tests/api/test_crds_upstream.py``).
Generated CRDs are cached per module version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

__all__ = [
    "CONTROLLER_GEN_VERSION",
    "EXAMPLE_KINDS",
    "FLUX_CLI",
    "IMAGE_AUTOMATION_API",
    "IMAGE_REFLECTOR_API",
    "KUSTOMIZE_CONTROLLER_API",
    "SOURCE_CONTROLLER",
    "SOURCE_CONTROLLER_API",
    "UpstreamError",
    "controller_gen",
    "example_objects",
    "flux_module",
    "generated_crds",
    "released_crds",
    "upstream_crd",
]

FLUX_CLI = ("github.com/fluxcd/flux2/v2", "v2.9.5")
"""The flux CLI, for the example objects in its test data."""
SOURCE_CONTROLLER = ("github.com/fluxcd/source-controller", "v1.10.1")
SOURCE_CONTROLLER_API = ("github.com/fluxcd/source-controller/api", "v1.10.1")
IMAGE_REFLECTOR_API = ("github.com/fluxcd/image-reflector-controller/api", "v1.3.0")
IMAGE_AUTOMATION_API = ("github.com/fluxcd/image-automation-controller/api", "v1.3.0")
KUSTOMIZE_CONTROLLER_API = ("github.com/fluxcd/kustomize-controller/api", "v1.10.1")
"""The newest releases the proxy serves (``go list -m -versions``)."""

CONTROLLER_GEN_VERSION = "v0.21.0"
"""The controller-gen Flux's Makefiles pin for these releases (``CONTROLLER_GEN_VERSION``)."""

_CONTROLLER_GEN = "sigs.k8s.io/controller-tools/cmd/controller-gen"


class UpstreamError(Exception):
    """A module could not be fetched or a CRD not produced; the message says which and why."""


@dataclass(frozen=True)
class _Go:
    path: str

    def run(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [self.path, *args],
            cwd=cwd,
            env={**_go_env(), **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise UpstreamError(f"`go {' '.join(args)}` failed: {result.stderr.strip()[-2000:]}")
        return result.stdout


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tagpilot"


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{env.get('PATH', '')}{os.pathsep}/usr/local/go/bin"
    env["GOFLAGS"] = "-mod=mod"
    env["GOWORK"] = "off"
    env["CGO_ENABLED"] = "0"
    # Flux's api modules need a newer Go than the one installed may be: let Go fetch its
    # toolchain through the module proxy, as `go` does by default.
    env["GOTOOLCHAIN"] = "auto"
    return env


def _go() -> _Go:
    found = shutil.which("go", path=_go_env()["PATH"])
    if found is None:
        raise UpstreamError("the `go` command is not installed (Go 1.26 or newer is needed)")
    return _Go(found)


def flux_module(module: str, version: str) -> Path:
    """The unpacked directory of ``module@version`` in Go's module cache (read-only)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = _go().run(["mod", "download", "-json", f"{module}@{version}"], Path(scratch))
    info = json.loads(out)
    if info.get("Error") or not info.get("Dir"):
        raise UpstreamError(f"{module}@{version}: {info.get('Error', 'no directory')}")
    return Path(info["Dir"])


def controller_gen(version: str = CONTROLLER_GEN_VERSION) -> Path:
    """controller-gen at ``version``, built once into the cache."""
    binary = _cache() / "go" / "bin" / f"controller-gen-{version}"
    if binary.is_file():
        return binary
    with tempfile.TemporaryDirectory() as scratch:
        _go().run(
            ["install", f"{_CONTROLLER_GEN}@{version}"], Path(scratch), env={"GOBIN": scratch}
        )
        binary.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(scratch) / "controller-gen"), binary)
    return binary


def _load_all(directory: Path) -> dict[str, dict[str, Any]]:
    """``{crd name: document}`` for every CRD YAML file in ``directory``."""
    yaml = YAML(typ="safe")
    crds: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.load(path.read_text())
        crds[document["metadata"]["name"]] = document
    return crds


def released_crds(module: str, version: str) -> dict[str, dict[str, Any]]:
    """The CRDs a controller module ships in ``config/crd/bases``."""
    return _load_all(flux_module(module, version) / "config" / "crd" / "bases")


def generated_crds(api_module: str, version: str) -> dict[str, dict[str, Any]]:
    """The CRDs controller-gen makes from an ``api`` module (cached per module version)."""
    out = _cache() / "flux-crds" / f"{api_module.replace('/', '_')}@{version}"
    if not out.is_dir():
        source = flux_module(api_module, version)
        generator = controller_gen()
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch) / "api"
            # The module cache is read-only; controller-gen loads the packages in a copy.
            shutil.copytree(source, work)
            for path in work.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            partial = Path(scratch) / "crds"
            result = subprocess.run(
                [
                    str(generator),
                    "crd:crdVersions=v1",
                    "paths=./...",
                    f"output:crd:artifacts:config={partial}",
                ],
                cwd=work,
                env=_go_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise UpstreamError(
                    f"controller-gen on {api_module}@{version}: {result.stderr.strip()[-2000:]}"
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(partial, out)
    return _load_all(out)


def upstream_crd(name: str) -> dict[str, Any]:
    """Flux's CRD called ``name`` (``imagepolicies.image.toolkit.fluxcd.io``)."""
    if name.endswith(".source.toolkit.fluxcd.io"):
        crds = released_crds(*SOURCE_CONTROLLER)
    elif name.endswith(".kustomize.toolkit.fluxcd.io"):
        crds = generated_crds(*KUSTOMIZE_CONTROLLER_API)
    elif name == "imageupdateautomations.image.toolkit.fluxcd.io":
        crds = generated_crds(*IMAGE_AUTOMATION_API)
    else:
        crds = generated_crds(*IMAGE_REFLECTOR_API)
    if name not in crds:
        raise UpstreamError(f"no CRD {name} upstream (found: {', '.join(sorted(crds))})")
    return crds[name]


EXAMPLE_KINDS = (
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "GitRepository",
    "Kustomization",
)
_TEMPLATE_FIELD = re.compile(r"\{\{\s*\.\w+\s*\}\}")


def example_objects() -> list[tuple[str, dict[str, Any]]]:
    """Flux's own example objects of the kinds tagpilot reads, with where each comes from.

    From source-controller's ``config/samples`` and ``config/testdata``, and the flux CLI's
    test data (``cmd/flux/testdata``, ``tests``).  The CLI's files are Go templates with
    simple fields (``{{ .fluxns }}``): each is filled in with ``example``.  Fragments that are
    not whole objects (no name, no spec, or ``${VAR}`` placeholders) are left out.
    """
    yaml = YAML(typ="safe")
    found: list[tuple[str, dict[str, Any]]] = []
    source = flux_module(*SOURCE_CONTROLLER) / "config"
    cli = flux_module(*FLUX_CLI)
    paths = [
        *(("source-controller", source, p) for p in source.glob("samples/*.yaml")),
        *(("source-controller", source, p) for p in source.glob("testdata/**/*.yaml")),
        *(("flux2", cli, p) for p in cli.glob("cmd/flux/testdata/**/*")),
        *(("flux2", cli, p) for p in cli.glob("tests/**/*.yaml")),
    ]
    for module, base, path in sorted(paths, key=lambda entry: (entry[0], str(entry[2]))):
        if not path.is_file() or path.suffix not in (".yaml", ".golden"):
            continue
        text = _TEMPLATE_FIELD.sub("example", path.read_text())
        if "{{" in text or "${" in text:
            continue
        try:
            documents = list(yaml.load_all(text))
        except YAMLError:  # some of the CLI's test data is deliberately not YAML
            continue
        for document in documents:
            if (
                isinstance(document, dict)
                and document.get("kind") in EXAMPLE_KINDS
                and isinstance(document.get("metadata"), dict)
                and document["metadata"].get("name")
                and isinstance(document.get("spec"), dict)
            ):
                where = f"{module}:{path.relative_to(base)}:{document['metadata']['name']}"
                found.append((where, document))
    return found


def prepare() -> None:
    """Fetch and generate every upstream CRD the tests compare with (first run only)."""
    from tagpilot.api.crds import CRD_KINDS  # noqa: PLC0415 - only for this command

    names = [f"{kind.plural}.{kind.group}" for kind in CRD_KINDS]
    missing = not (_cache() / "go" / "bin" / f"controller-gen-{CONTROLLER_GEN_VERSION}").is_file()
    if missing:
        print(
            f"building controller-gen {CONTROLLER_GEN_VERSION} and generating Flux's CRDs from "
            "their api modules (first run only, a few minutes)",
            flush=True,
        )
    generated_crds(*SOURCE_CONTROLLER_API)
    for name in names:
        upstream_crd(name)


if __name__ == "__main__":
    try:
        prepare()
    except UpstreamError as error:
        raise SystemExit(f"upstream CRDs: {error}") from None
