"""Seed a registry by writing its filesystem storage layout directly (distribution 2.8).

Pushing two million manifests over HTTP would take hours; writing the files the registry's
``filesystem`` driver reads takes seconds.  Under ``<root>/docker/registry/v2``:

* ``blobs/sha256/<ab>/<hex>/data``: a few small images (an OCI config and a manifest each,
  no layers), shared by every repository, as content-addressed storage shares them;
* ``repositories/<name>/_layers/sha256/<hex>/link`` for each config blob and
  ``_manifests/revisions/sha256/<hex>/link`` for each manifest: what lets the repository
  serve them;
* ``repositories/<name>/_manifests/tags/<tag>/current/link``: the manifest a tag names.

Two economies keep two million tags within a tmpfs's default inode limit (half the RAM
pages: 3 million with 24 GB): every link file of one digest is a hard link of one file,
and each tag's directory is a symbolic link to one shared ``<tag>``-shaped directory per
manifest, outside the registry's tree (``tag-links/<hex>/current/link``).  The registry lists a tag
directory's entries and reads ``current/link`` through the path, so it serves these as it
serves the tags it wrote itself.  The ``index/`` directory a push also writes under each
tag is left out: only deleting a tag reads it.  :func:`check_sample` proves the layout
right through the HTTP API.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["OCI_MANIFEST", "Image", "check_sample", "inodes_needed", "make_images", "write"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


@dataclass(frozen=True)
class Image:
    """One image's blobs: its config and its manifest, with their digests."""

    config: bytes
    manifest: bytes

    @property
    def config_digest(self) -> str:
        """``sha256:<hex>`` of the config blob."""
        return _digest(self.config)

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the manifest: what a tag resolves to."""
        return _digest(self.manifest)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_images(count: int) -> list[Image]:
    """``count`` distinct layerless OCI images."""
    images = []
    for number in range(count):
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Labels": {"bench.image": str(number)}},
                "rootfs": {"type": "layers", "diff_ids": []},
            },
            sort_keys=True,
        ).encode()
        descriptor = {"mediaType": _OCI_CONFIG, "size": len(config), "digest": _digest(config)}
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor, "layers": []}
        ).encode()
        images.append(Image(config, manifest))
    return images


def inodes_needed(repositories: int, tags: int, images: int) -> int:
    """An upper bound of the inodes :func:`write` makes."""
    return repositories * (tags + 12 + 4 * images) + 8 * images + 16


def write(
    data: Path, repositories: Iterable[tuple[str, Sequence[str]]], images: Sequence[Image]
) -> int:
    """Write ``(name, tags)`` repositories under the registry's ``data`` root; tag ``i``
    names ``images[i % len(images)]``.  Returns the number of tags written."""
    v2 = data / "docker/registry/v2"
    shared = data / "tag-links"
    links: dict[str, Path] = {}
    for image in images:
        for blob in (image.config, image.manifest):
            hexdigest = _digest(blob).removeprefix("sha256:")
            path = v2 / f"blobs/sha256/{hexdigest[:2]}/{hexdigest}/data"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
            link = shared / hexdigest / "current/link"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.write_text(_digest(blob))
            links[_digest(blob)] = link
    written = 0
    for name, tags in repositories:
        repository = v2 / "repositories" / name
        for image in images:
            _link(links[image.config_digest], repository / "_layers", image.config_digest)
            _link(links[image.digest], repository / "_manifests/revisions", image.digest)
        tag_root = repository / "_manifests/tags"
        tag_root.mkdir(parents=True)
        targets = [str(links[image.digest].parent.parent) for image in images]
        for index, tag in enumerate(tags):
            os.symlink(targets[index % len(targets)], tag_root / tag)
        written += len(tags)
    return written


def _link(source: Path, under: Path, digest: str) -> None:
    target = under / "sha256" / digest.removeprefix("sha256:") / "link"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, target)


def check_sample(
    base_url: str, sample: Sequence[tuple[str, Sequence[str]]], images: Sequence[Image]
) -> int:
    """Read each sampled repository back through the HTTP API: its whole tag list, and its
    first and last tag's manifest (digest and bytes) and config blob.  Raises on any
    difference; returns the number of requests made."""
    requests = 0
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for name, tags in sample:
            listed = client.get(f"/v2/{name}/tags/list")
            listed.raise_for_status()
            if sorted(listed.json()["tags"]) != sorted(tags):
                raise RuntimeError(f"{name}: the registry lists other tags than were written")
            requests += 1
            for index in (0, len(tags) - 1):
                image = images[index % len(images)]
                answer = client.get(
                    f"/v2/{name}/manifests/{tags[index]}", headers={"Accept": OCI_MANIFEST}
                )
                answer.raise_for_status()
                if (
                    answer.headers.get("Docker-Content-Digest") != image.digest
                    or answer.content != image.manifest
                ):
                    raise RuntimeError(
                        f"{name}:{tags[index]}: the registry serves another manifest"
                    )
                config = client.get(f"/v2/{name}/blobs/{image.config_digest}")
                config.raise_for_status()
                if config.content != image.config:
                    raise RuntimeError(f"{name}: the registry serves another config blob")
                requests += 2
    return requests
