"""Seed a registry with tiny images under many tags, without docker (stdlib HTTP + threads).

Per repository: one config blob and one small gzip'd tar layer (monolithic upload), then one
manifest ``PUT`` per tag (all tags share the manifest).  Auth: none, Basic, or Bearer tokens
fetched from the challenge's realm with the same Basic credentials.  TLS: a CA file.
"""

from __future__ import annotations

import base64
import concurrent.futures
import gzip
import hashlib
import http.client
import io
import json
import re
import ssl
import tarfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

__all__ = ["OCI_MANIFEST", "Pusher", "seed"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
_REPO_IN_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer() -> bytes:
    raw = io.BytesIO()
    text = b"hello from tagpilot tests\n"
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text)
        archive.addfile(info, io.BytesIO(text))
    return gzip.compress(raw.getvalue(), mtime=0)


def _image(label: str) -> tuple[bytes, bytes, bytes]:
    layer = _layer()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"seed": label}},
            "rootfs": {"type": "layers", "diff_ids": [_digest(gzip.decompress(layer))]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": _OCI_CONFIG, "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": _OCI_LAYER, "size": len(layer), "digest": _digest(layer)}],
        }
    ).encode()
    return layer, config, manifest


class Pusher:
    """One keep-alive connection per thread; Basic or Bearer auth as the registry asks."""

    def __init__(
        self,
        base: str,
        user: str | None = None,
        password: str | None = None,
        cafile: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
    ) -> None:
        url = urllib.parse.urlsplit(base)
        self._https = url.scheme == "https"
        self._host, self._port = (
            url.hostname or "127.0.0.1",
            url.port or (443 if self._https else 80),
        )
        self._basic = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user else None
        )
        self._context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        if self._context is not None and client_cert is not None:
            self._context.load_cert_chain(*client_cert)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, context=self._context, timeout=60
                )
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def close(self) -> None:
        """Close every connection this pusher opened."""
        for connection in self._opened:
            connection.close()

    def _token(self, challenge: str, repo: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode(
            {"service": params.get("service", ""), "scope": f"repository:{repo}:pull,push"}
        )
        request = urllib.request.Request(
            params["realm"] + "?" + query,
            headers={"Authorization": self._basic} if self._basic else {},
        )
        with urllib.request.urlopen(request, context=self._context) as response:
            document = json.loads(response.read())
        return "Bearer " + str(document.get("token") or document["access_token"])

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        """Send one request (re-authenticating once on a Bearer challenge); raise unless 2xx."""
        match = _REPO_IN_PATH.match(path)
        repo = match.group(1) if match else ""
        for _ in range(2):
            sent = dict(headers or {}, **{"Content-Length": str(len(body))})
            authorization = self._tokens.get(repo) or self._basic
            if authorization:
                sent["Authorization"] = authorization
            connection = self._connection()
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            challenge = response.getheader("WWW-Authenticate") or ""
            if (
                response.status == 401
                and challenge.startswith("Bearer ")
                and repo not in self._tokens
            ):
                with self._lock:
                    self._tokens[repo] = self._token(challenge, repo)
                continue
            if response.status >= 300:
                raise RuntimeError(f"{method} {path} -> {response.status} {data[:200]!r}")
            return response
        raise RuntimeError(f"{method} {path}: still unauthorized")

    def upload_blob(self, repo: str, blob: bytes) -> None:
        """Monolithic blob upload: POST an upload session, PUT the bytes with their digest."""
        started = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        location = urllib.parse.urlsplit(started.getheader("Location") or "")
        separator = "&" if location.query else "?"
        path = location.path + (f"?{location.query}" if location.query else "")
        digest = urllib.parse.quote(_digest(blob))
        self.request(
            "PUT",
            f"{path}{separator}digest={digest}",
            blob,
            {"Content-Type": "application/octet-stream"},
        )


def seed(
    registry: str,
    repo: str,
    tags: Sequence[str],
    *,
    user: str | None = None,
    password: str | None = None,
    cafile: Path | None = None,
    client_cert: tuple[Path, Path] | None = None,
    workers: int = 8,
) -> str:
    """Push one image to ``registry``/``repo`` under every tag in ``tags``; return its digest."""
    pusher = Pusher(registry, user, password, cafile, client_cert)
    layer, config, manifest = _image(repo)

    def put(tag: str) -> None:
        pusher.request(
            "PUT",
            f"/v2/{repo}/manifests/{urllib.parse.quote(tag)}",
            manifest,
            {"Content-Type": OCI_MANIFEST},
        )

    try:
        pusher.upload_blob(repo, layer)
        pusher.upload_blob(repo, config)
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(put, tags))
    finally:
        pusher.close()
    return _digest(manifest)
