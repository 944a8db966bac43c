"""Protocols the imperative shell implements for the reconcilers.

Reconcilers depend on these, never on concrete adapters, so the same logic runs against
SQLite and the git CLI locally and against Kubernetes later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from tagpilot.core.secrets import SecretValue, TLSMaterial
from tagpilot.core.setters import SetterTable, TreeResult
from tagpilot.core.tags import ScannedTags

__all__ = [
    "AppliedObject",
    "AutomationRun",
    "CheckoutRef",
    "Clock",
    "CommitSpec",
    "EventRecorder",
    "FlowResult",
    "GitAuth",
    "GitSource",
    "GitSourceFetch",
    "GitUpdate",
    "GitUpdater",
    "ManifestBuilder",
    "ObjectApplier",
    "ObjectKey",
    "ProxySettings",
    "PushSpec",
    "RecordedEvent",
    "Registry",
    "RegistryAccess",
    "SigningKey",
    "SourceArtifact",
    "StateStore",
    "StatusWriter",
    "StoredTags",
    "TreeEditor",
]


class Clock(Protocol):
    """The source of wall-clock time, injected so decisions stay testable."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identifies one object: kind, namespace and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class StoredTags:
    """The last scan's tags of one repository (descending byte order) and its revision."""

    canonical_name: str
    tags: tuple[str, ...]
    revision: str
    scan_time: datetime


@dataclass(frozen=True)
class RecordedEvent:
    """An event about an object, as Flux would emit it (type Normal/Warning/Trace)."""

    key: ObjectKey
    type: str
    reason: str
    message: str
    time: datetime


@dataclass(frozen=True)
class AutomationRun:
    """One automation run that changed files: when, the commit, and what changed.

    ``changes`` holds one mapping per change: file, apiVersion, kind, name, namespace, old,
    new, setter (the shape ``template render`` reads).
    """

    namespace: str
    name: str
    time: datetime
    source_revision: str
    commit: str | None
    branch: str | None
    changes: tuple[Mapping[str, str], ...] = ()

    def document(self) -> dict[str, Any]:
        """The run as JSON data (``time`` in ISO 8601), as the daemon's API sends it."""
        return {
            "time": self.time.isoformat(),
            "sourceRevision": self.source_revision,
            "commit": self.commit,
            "branch": self.branch,
            "changes": [dict(change) for change in self.changes],
        }

    @classmethod
    def from_document(cls, namespace: str, name: str, data: Mapping[str, Any]) -> AutomationRun:
        """A run of automation ``namespace/name`` read back from :meth:`document`'s form."""
        return cls(
            namespace,
            name,
            datetime.fromisoformat(str(data["time"])),
            str(data.get("sourceRevision") or ""),
            data.get("commit"),
            data.get("branch"),
            tuple(dict(change) for change in data.get("changes") or ()),
        )


class StateStore(Protocol):
    """Durable state: statuses, tag sets, events and automation runs."""

    def get_status(self, key: ObjectKey) -> dict[str, Any] | None:
        """The object's last written status, or None."""
        ...

    def put_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        """Replace the object's status."""
        ...

    def status_version(self, kind: str) -> tuple[int, int]:
        """Changes whenever a status of ``kind`` may have changed (in any process)."""
        ...

    def status_field(self, kind: str, namespace: str, field: str) -> dict[str, str]:
        """Object name -> JSON text of one top-level status field, for the objects of
        ``kind`` in ``namespace`` whose status has it (one read for them all)."""
        ...

    def put_object(self, key: ObjectKey, document: Mapping[str, Any]) -> None:
        """Keep the object as last reconciled (apiVersion, kind, metadata, spec)."""
        ...

    def observe_generation(self, key: ObjectKey, spec_hash: str) -> int:
        """The object's generation: 1 when first seen, +1 whenever its spec hash changes."""
        ...

    def get_tags(self, canonical_name: str) -> StoredTags | None:
        """The stored tag set of a repository, or None when never scanned."""
        ...

    def get_scan_time(self, canonical_name: str) -> datetime | None:
        """When the stored tag set of a repository was scanned, without reading the tags."""
        ...

    def put_tags(self, stored: StoredTags) -> None:
        """Replace the tag set of a repository (never appends)."""
        ...

    def add_event(self, event: RecordedEvent) -> None:
        """Record an event; old events of the object beyond the ring size are dropped."""
        ...

    def events(self, key: ObjectKey | None = None, limit: int = 100) -> Sequence[RecordedEvent]:
        """Newest-first events, of one object or of all."""
        ...

    def add_run(self, run: AutomationRun) -> None:
        """Record one automation run that changed files."""
        ...

    def runs(self, namespace: str, name: str, limit: int = 20) -> list[AutomationRun]:
        """Newest-first recorded runs of one automation."""
        ...


class StatusWriter(Protocol):
    """Publishes an object's status where its users read it (a cluster's status subresource).

    The state store keeps the run's own copy; this port is for a second home of the truth,
    so it is optional: the directory runtimes have none.
    """

    async def write_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        """Make ``status`` (Flux's JSON form) the object's whole status; a deleted object is
        not an error."""
        ...


@dataclass(frozen=True)
class AppliedObject:
    """What applying one object did (``created``, ``configured``, ``unchanged``) and the
    object as the cluster now has it."""

    action: str
    live: Mapping[str, Any]


IgnoredPaths = Sequence[tuple[str, ...]]
"""JSON pointers, as segment tuples, of fields drift detection and apply leave alone."""


class ObjectApplier(Protocol):
    """Applies, reads and deletes arbitrary objects in a cluster (server-side apply)."""

    async def get(self, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The live copy of ``obj`` (by apiVersion, kind, namespace, name), or None."""
        ...

    async def apply(self, obj: Mapping[str, Any]) -> AppliedObject:
        """Apply ``obj``; write nothing when a dry run shows no change."""
        ...

    async def read(
        self, objects: Sequence[Mapping[str, Any]]
    ) -> dict[int, Mapping[str, Any] | None]:
        """The live copies of ``objects`` by position (None: absent), read in bulk (a list
        per kind and namespace); positions left out were not read (read them with ``get``)."""
        ...

    async def unchanged(
        self, obj: Mapping[str, Any], live: Mapping[str, Any], ignored: IgnoredPaths = ()
    ) -> bool:
        """Whether applying ``obj`` over ``live`` would change nothing (a dry run decides);
        the fields at ``ignored`` (``spec.ignore``) are no drift."""
        ...

    async def write(
        self, obj: Mapping[str, Any], live: Mapping[str, Any] | None, ignored: IgnoredPaths = ()
    ) -> AppliedObject:
        """Apply ``obj`` without a dry run: ``created`` when ``live`` is None, else
        ``configured``; each field at ``ignored`` is left to its other Apply owner or kept
        at its live value."""
        ...

    async def delete(self, obj: Mapping[str, Any]) -> bool:
        """Delete ``obj`` in the background; False when it was already gone."""
        ...

    def as_service_account(self, namespace: str, name: str) -> ObjectApplier:
        """The same applier acting as a ServiceAccount (impersonation)."""
        ...


class ManifestBuilder(Protocol):
    """Turns a source artifact and a Kustomization's spec into the objects to apply."""

    async def build(
        self, url: str, digest: str | None, path: str, spec: Any,
        age_keys: Mapping[str, bytes] | None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Fetch the artifact at ``url`` (digest checked), build ``path`` in it with
        kustomize, decrypting SOPS with ``age_keys`` (the ``decryption.secretRef`` Secret's
        values); nothing is left behind."""
        ...


class EventRecorder(Protocol):
    """Publishes events where users look for them (a cluster's Events)."""

    async def record(self, key: ObjectKey, event_type: str, reason: str, message: str) -> None:
        """Record one ``Normal`` or ``Warning`` event about ``key``."""
        ...


@dataclass(frozen=True)
class ProxySettings:
    """An explicit proxy from a ``proxySecretRef``."""

    address: str
    username: str | None = None
    password: SecretValue | None = None


@dataclass(frozen=True)
class RegistryAccess:
    """Everything needed to talk to one repository: the image and how to reach it."""

    image: str
    insecure: bool = False
    timeout_seconds: float = 30.0
    docker_config: SecretValue | None = None
    docker_config_source: str = ""
    tls: TLSMaterial | None = None
    proxy: ProxySettings | None = None


class Registry(Protocol):
    """Reads tags and digests from OCI registries."""

    async def list_tags(self, access: RegistryAccess) -> ScannedTags:
        """Every valid tag of ``access.image`` in the registry's order, and how many were not."""
        ...

    async def head_digest(self, access: RegistryAccess, tag: str) -> str:
        """The manifest digest of ``access.image:tag``."""
        ...


@dataclass(frozen=True)
class GitAuth:
    """Credentials and trust material for one remote, as found in a GitRepository Secret.

    SSH uses ``identity_pem`` (OpenSSH private key, optionally ``identity_passphrase``) and
    ``known_hosts`` (required: unknown hosts are refused, never trusted on first use).
    HTTPS uses ``username``/``password`` (Basic) or ``bearer_token``, ``ca_pem`` for a
    private CA and ``cert_pem``/``key_pem`` for a client certificate.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    identity_pem: bytes | None = field(default=None, repr=False)
    known_hosts: bytes | None = None
    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = field(default=None, repr=False)
    identity_passphrase: bytes | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every secret string that must never appear in a message or log."""
        values = (self.password, self.bearer_token)
        return tuple(v for v in values if v)


@dataclass(frozen=True)
class SigningKey:
    """A commit signing key: ``gpg`` (armored private key) or ``ssh`` (OpenSSH private key)."""

    kind: Literal["gpg", "ssh"]
    key: bytes = field(repr=False)
    passphrase: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CommitSpec:
    """Author, message and time of the automation commit.

    ``message`` may be a callable: it is called after the setters ran, so a template can
    see the changes of that attempt.
    """

    author_name: str
    """May be empty (Flux allows it); the e-mail is then used as the name."""
    author_email: str
    message: str | Callable[[], str]
    when: datetime

    def render_message(self) -> str:
        """The message text, evaluating the callable form."""
        return self.message() if callable(self.message) else self.message


@dataclass(frozen=True)
class CheckoutRef:
    """Flux's ``GitRepositoryRef``; precedence when several are set: commit > name > tag >
    semver > branch, and an empty ref means branch ``master``."""

    branch: str = ""
    tag: str = ""
    semver: str = ""
    name: str = ""
    commit: str = ""


@dataclass(frozen=True)
class PushSpec:
    """Flux's ``spec.git.push``: target branch, an extra refspec and push options."""

    branch: str = ""
    refspec: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowResult:
    """What one run of the git flow did.

    ``source_revision`` is Flux's ``observedSourceRevision``: ``<branch>@sha1:<sha>`` of the
    pushed commit when pushing to the checkout branch, else of the checkout commit.
    """

    changed: bool
    source_revision: str
    checkout_commit: str
    pushed_commit: str | None = None
    pushed_branch: str | None = None
    refspecs: tuple[str, ...] = ()
    attempts: int = 1


@dataclass(frozen=True)
class GitUpdate:
    """One automation run against one remote: where, as whom, which refs, which commit."""

    url: str
    auth: GitAuth
    checkout: CheckoutRef | None
    push: PushSpec | None
    commit: CommitSpec
    signing: SigningKey | None = None
    timeout_seconds: float = 60.0
    known_result: Callable[[str], bool] | None = None
    """Asked with the commit a worktree would be made at, before it is made: True when the
    caller already knows ``apply`` would change nothing there, so the run ends up-to-date
    without a checkout (``apply`` is then not called)."""


class TreeEditor(Protocol):
    """Runs the setters over a directory of a checkout (files are read and written here)."""

    def update(
        self, root: Path, path: str, table: SetterTable, *, dry_run: bool = False
    ) -> TreeResult:
        """Apply ``table`` under ``root/path`` (confined to ``root``); report what changed."""
        ...


class GitUpdater(Protocol):
    """Runs Flux's git flow: fetch, check out, ``apply`` the setters, commit, push."""

    async def update(self, request: GitUpdate, apply: Callable[[Path], bool]) -> FlowResult:
        """Run ``apply`` on a worktree of the checkout; commit and push if it changed files."""
        ...


# -- GitRepository sources: resolve a ref and export its tree as an artifact ----------------


@dataclass(frozen=True)
class GitSourceFetch:
    """One GitRepository fetch: the remote, how to reach it, the ref and the ignore rules.

    ``namespace``/``name`` name the GitRepository: its artifacts are kept apart from the
    others' (Flux's ``gitrepository/<namespace>/<name>/``).
    """

    namespace: str
    name: str
    url: str
    auth: GitAuth
    ref: CheckoutRef | None
    ignore: str | None = None
    """``spec.ignore``: gitignore patterns, relative to the repository root."""
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class SourceArtifact:
    """The exported tree of one resolved commit, and Flux's artifact fields for it."""

    revision: str
    """Flux's revision string: ``<branch>@sha1:<sha>``, ``<tag>@sha1:<sha>``, ``sha1:<sha>``."""
    commit: str
    tree: Path
    """The directory holding the exported files (read-only for consumers)."""
    path: str
    """Flux's ``status.artifact.path``: ``gitrepository/<namespace>/<name>/<commit>.tar.gz``."""
    url: str
    """Where the archive of the tree is (a ``file://`` URL)."""
    digest: str
    """``sha256:<hex>`` of the archive."""
    size: int
    """The archive's size in bytes."""
    created: bool
    """True when this fetch stored a new artifact; False when an identical one was reused."""


class GitSource(Protocol):
    """Fetches a Git remote and exports the tree a GitRepository's ref names."""

    async def fetch(self, request: GitSourceFetch) -> SourceArtifact:
        """Fetch what is new, resolve the ref, and return the (new or reused) artifact."""
        ...
