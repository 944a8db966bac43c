"""Where the apiserver is and who we are: a kubeconfig context, or the in-cluster identity.

:func:`load_kubeconfig` looks, in this order, at: an explicit path; ``$KUBECONFIG`` (only the
*first* file of a colon-separated list is read: contexts are not merged across files); the
in-cluster ServiceAccount (``KUBERNETES_SERVICE_HOST``/``_PORT`` and the mounted token, CA and
namespace); ``~/.kube/config``.  It supports what a controller needs: inline ``*-data`` or file
paths (relative to the kubeconfig's directory) for the CA and a client certificate and key,
``token``, ``tokenFile``, ``insecure-skip-tls-verify`` and the context's ``namespace``.
Credential plugins (``exec``, ``auth-provider``) are refused: tagpilot runs no programs named
by a kubeconfig.  Errors name the file and the field, never key or token material.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tagpilot.core.errors import InvalidInputError, SourceLocation, StalledError
from tagpilot.core.secrets import SecretValue

__all__ = ["SERVICE_ACCOUNT_DIR", "KubeConfig", "load_kubeconfig"]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where a Pod's ServiceAccount token, CA and namespace are mounted."""

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class KubeConfig:
    """How to reach and authenticate to one apiserver."""

    server: str
    """``https://host:port``."""
    ca_pem: bytes | None
    """The CA that signs the apiserver's certificate; None: the system trust store."""
    cert_pem: bytes | None = None
    """Client certificate (PEM)."""
    key_pem: bytes | None = field(default=None, repr=False)
    """Its private key (PEM)."""
    token: SecretValue | None = None
    """A bearer token."""
    token_file: Path | None = None
    """A file holding the bearer token, re-read every minute and on 401 (projected tokens
    rotate)."""
    namespace: str = "default"
    """The context's namespace, or the Pod's."""
    insecure_skip_tls_verify: bool = False
    """Do not verify the apiserver's certificate (only when the kubeconfig says so)."""


def load_kubeconfig(
    path: Path | None = None,
    context: str | None = None,
    *,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
    environ: Mapping[str, str] | None = None,
) -> KubeConfig:
    """The connection of ``context`` (default: the current context) in the first config found.

    Order: ``path``; ``$KUBECONFIG`` (its first file only); in-cluster (when
    ``KUBERNETES_SERVICE_HOST`` and ``_PORT`` are set and no ``context`` is asked for);
    ``~/.kube/config``.  Raises :class:`InvalidInputError` for a malformed or incomplete file,
    :class:`StalledError` for credentials tagpilot does not support.
    """
    env = os.environ if environ is None else environ
    if path is not None:
        return _from_file(path, context)
    listed = [part for part in env.get("KUBECONFIG", "").split(os.pathsep) if part]
    if listed:
        return _from_file(Path(listed[0]), context)
    if (
        context is None
        and env.get("KUBERNETES_SERVICE_HOST")
        and env.get("KUBERNETES_SERVICE_PORT")
    ):
        return _in_cluster(
            env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"], service_account_dir
        )
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    default = home / ".kube" / "config"
    if not default.exists():
        raise InvalidInputError(
            "no Kubernetes connection found: give --kubeconfig, set KUBECONFIG, run in a Pod, "
            f"or create {default}"
        )
    return _from_file(default, context)


def _in_cluster(host: str, port: str, directory: Path) -> KubeConfig:
    token_file = directory / "token"
    if not token_file.is_file():
        raise InvalidInputError(
            "KUBERNETES_SERVICE_HOST is set but there is no ServiceAccount token to use "
            "(is automountServiceAccountToken false?)",
            location=SourceLocation(file=str(token_file)),
        )
    ca_file = directory / "ca.crt"
    namespace_file = directory / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else ""
    server_host = f"[{host}]" if ":" in host else host
    return KubeConfig(
        server=f"https://{server_host}:{port}",
        ca_pem=ca_file.read_bytes() if ca_file.is_file() else None,
        token_file=token_file,
        namespace=namespace or "default",
    )


class _File:
    """One kubeconfig document and where it came from, for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputError(
                f"cannot read the kubeconfig: {getattr(error, 'strerror', None) or error}",
                location=SourceLocation(file=str(path)),
            ) from error
        try:
            document = YAML(typ="safe").load(text)
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise InvalidInputError(
                f"not valid YAML: {getattr(error, 'problem', None) or 'parse error'}",
                location=SourceLocation(
                    file=str(path), line=mark.line + 1 if mark is not None else None
                ),
            ) from error
        if not isinstance(document, dict):
            raise self.invalid(
                "", "not a kubeconfig: expected a mapping with clusters, users, contexts"
            )
        self.document: dict[str, Any] = document

    def invalid(self, where: str, message: str) -> InvalidInputError:
        return InvalidInputError(
            message, location=SourceLocation(file=str(self.path), field=where or None)
        )

    def named(self, section: str, name: str) -> dict[str, Any]:
        """The body of the entry ``name`` in ``clusters``/``users``/``contexts``."""
        entries = self.document.get(section) or []
        inner = section.removesuffix("s")
        if not isinstance(entries, list):
            raise self.invalid(section, "expected a list")
        for entry in entries:
            if isinstance(entry, dict) and entry.get("name") == name:
                body = entry.get(inner) or {}
                if not isinstance(body, dict):
                    raise self.invalid(f"{section}[{name}].{inner}", "expected a mapping")
                return body
        known = ", ".join(str(e.get("name")) for e in entries if isinstance(e, dict)) or "none"
        raise self.invalid(section, f"no {inner} named {name!r} (known: {known})")

    def material(self, body: dict[str, Any], where: str, key: str) -> bytes | None:
        """``<key>-data`` (base64) or ``<key>`` (a path relative to this file), or None."""
        inline = body.get(f"{key}-data")
        if inline:
            try:
                return base64.b64decode(str(inline), validate=True)
            except (binascii.Error, ValueError) as error:
                # the value may be a key: say which field, never what is in it
                raise self.invalid(f"{where}.{key}-data", "is not valid base64") from error
        named = body.get(key)
        if not named:
            return None
        return self.read_relative(f"{where}.{key}", str(named))

    def read_relative(self, where: str, name: str) -> bytes:
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = self.path.parent / path
        try:
            return path.read_bytes()
        except OSError as error:
            raise self.invalid(where, f"cannot read {path}: {error.strerror or error}") from error


def _from_file(path: Path, context: str | None) -> KubeConfig:
    config = _File(path)
    name = context or config.document.get("current-context")
    if not name:
        raise config.invalid(
            "current-context", "no current-context is set and no context was given"
        )
    ctx = config.named("contexts", str(name))
    cluster_name = ctx.get("cluster")
    if not cluster_name:
        raise config.invalid(f"contexts[{name}].context.cluster", "is missing")
    cluster = config.named("clusters", str(cluster_name))
    where = f"clusters[{cluster_name}].cluster"
    server = cluster.get("server")
    if not server or not str(server).startswith(("https://", "http://")):
        raise config.invalid(f"{where}.server", "must be an https:// URL")
    user_name = ctx.get("user")
    user = config.named("users", str(user_name)) if user_name else {}
    credentials = _credentials(config, str(user_name), user)
    insecure = bool(cluster.get("insecure-skip-tls-verify", False))
    if insecure:
        _log.warning(
            "kubeconfig turns TLS verification off: the apiserver's certificate is not checked",
            kubeconfig=str(path),
            cluster=str(cluster_name),
            server=str(server),
        )
    return KubeConfig(
        server=str(server).rstrip("/"),
        ca_pem=config.material(cluster, where, "certificate-authority"),
        namespace=str(ctx.get("namespace") or "default"),
        insecure_skip_tls_verify=insecure,
        **credentials,
    )


def _credentials(config: _File, name: str, user: dict[str, Any]) -> dict[str, Any]:
    """The client certificate, key and token fields of a kubeconfig user."""
    for plugin, words in (("exec", "exec credentials"), ("auth-provider", "an auth-provider")):
        if user.get(plugin):
            raise StalledError(
                f"{config.path}: kubeconfig user {name!r} uses {words}, which tagpilot does not "
                "run; use a token or a client certificate"
            )
    if user.get("username") or user.get("password"):
        raise StalledError(
            f"{config.path}: kubeconfig user {name!r} uses basic auth, which Kubernetes no "
            "longer serves; use a token or a client certificate"
        )
    where = f"users[{name}].user"
    cert = config.material(user, where, "client-certificate")
    key = config.material(user, where, "client-key")
    if (cert is None) != (key is None):
        raise config.invalid(where, "client-certificate and client-key must be given together")
    token = user.get("token")
    token_file = user.get("tokenFile")
    token_path: Path | None = None
    if token_file and not token:
        token_path = Path(str(token_file)).expanduser()
        if not token_path.is_absolute():
            token_path = config.path.parent / token_path
        config.read_relative(f"{where}.tokenFile", str(token_path))  # fail now, not per request
    return {
        "cert_pem": cert,
        "key_pem": key,
        "token": SecretValue(str(token).strip().encode()) if token else None,
        "token_file": token_path,
    }
