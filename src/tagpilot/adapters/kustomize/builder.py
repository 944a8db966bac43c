"""The ``ManifestBuilder`` port: fetch a source artifact, then build it with kustomize.

Artifacts are gzip tarballs, as Flux's source-controller serves them: a ``file://`` URL for
the ones tagpilot stores itself, ``http(s)://`` for a source-controller's.  The digest is
checked before anything is unpacked, and unpacking keeps regular files and directories only
(tarfile's ``data`` filter: no links, devices or paths outside the target).
"""

from __future__ import annotations

import asyncio
import hashlib
import tarfile
import tempfile
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tagpilot.adapters.kustomize.build import BuildRequest, build
from tagpilot.adapters.sops.keys import identities_from_secret
from tagpilot.core.errors import RetryableError, StalledError

__all__ = ["ArtifactError", "KustomizeBuilder"]

_MAX_ARTIFACT = 512 * 1024 * 1024


class ArtifactError(RetryableError):
    """A source artifact could not be fetched or does not match its digest."""

    reason = "ArtifactFailed"


class KustomizeBuilder:
    """Fetches artifacts and builds them with the pinned kustomize."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self._timeout = timeout

    async def build(
        self, url: str, digest: str | None, path: str, spec: Any,
        age_keys: Mapping[str, bytes] | None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Fetch the artifact into a private directory, build ``path``, remove it all."""
        with tempfile.TemporaryDirectory(prefix="tagpilot-artifact-") as scratch:
            tree = await self.fetch(url, digest, Path(scratch))
            return await asyncio.to_thread(self.build_tree, tree, path, spec, age_keys)

    async def fetch(self, url: str, digest: str | None, into: Path) -> Path:
        """Download (or copy) and unpack the artifact at ``url`` into ``into``."""
        data = await self._read(url)
        if digest:
            algorithm, _, expected = digest.partition(":")
            if algorithm != "sha256" or hashlib.sha256(data).hexdigest() != expected:
                raise ArtifactError(f"artifact {url} does not match its digest {digest}")
        archive = into / "artifact.tar.gz"
        tree = into / "source"
        archive.write_bytes(data)
        await asyncio.to_thread(_unpack, archive, tree)
        archive.unlink()
        return tree

    async def _read(self, url: str) -> bytes:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "file":
            path = Path(urllib.parse.unquote(parsed.path))
            try:
                return await asyncio.to_thread(path.read_bytes)
            except OSError as error:
                raise ArtifactError(f"artifact {url} cannot be read: {error.strerror}") from None
        if parsed.scheme not in ("http", "https"):
            raise StalledError(f"artifact URL {url!r}: only file, http and https are read")
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url)
        except httpx.HTTPError as error:
            raise ArtifactError(f"artifact {url} cannot be downloaded: {error}") from None
        if response.status_code == 404:
            raise ArtifactError("Source is not ready, artifact not found, retrying in 30s")
        if response.status_code >= 400 or len(response.content) > _MAX_ARTIFACT:
            raise ArtifactError(f"artifact {url} answered {response.status_code}")
        return response.content

    def build_tree(
        self, root: Path, path: str, spec: Any, age_keys: Mapping[str, bytes] | None
    ) -> list[dict[str, Any]]:
        """Build ``path`` under ``root`` with kustomize; decrypt with ``age_keys``."""
        identities = None
        if age_keys is not None:
            identities = identities_from_secret(age_keys, secret="decryption.secretRef")
        return build(BuildRequest(root, path, spec, identities), timeout=self._timeout)


def _unpack(archive: Path, tree: Path) -> None:
    tree.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:gz") as bundle:
            bundle.extractall(tree, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ArtifactError(f"artifact cannot be unpacked: {error}") from None
