"""The loaded Receivers with their tokens, and which objects a delivery triggers.

The runtime builds :class:`ReceiverEntry` values with :func:`receiver_entries` after each
manifest load and hands them to :meth:`ReceiverTable.replace`; the webhook route finds an
entry by request path and asks :func:`delivery_targets` what to reconcile.

Which objects a verified delivery triggers: every object the engine reconciles here
(ImageRepository, ImagePolicy, ImageUpdateAutomation, and GitRepository and Kustomization
where this process reconciles them — a git push Receiver fetches its GitRepository at once)
selected by a ``spec.resources`` entry — by name in the entry's namespace (default: the
Receiver's), or ``*`` with ``matchLabels`` (namespace ``*`` for every namespace).  Objects
that are only read here (a GitRepository when Flux's source-controller owns it) are ignored.
When the body names pushed images (Docker Hub, Quay, Harbor, GitHub package events, ACR),
ImageRepositories are further restricted to those scanning one of those images: a push of
``app-a`` does not rescan ``app-b`` even when one Receiver lists both.  Flux rescans every
listed object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tagpilot.api.descriptors import IMAGE_REPOSITORY
from tagpilot.api.receiver import Receiver
from tagpilot.core.secrets import MissingSecretError, SecretIndex, SecretValue
from tagpilot.ports import ObjectKey
from tagpilot.server.protocols import RECONCILABLE_KINDS, ServerEngine

__all__ = ["ReceiverEntry", "ReceiverTable", "delivery_targets", "receiver_entries"]

TOKEN_KEY = "token"


@dataclass(frozen=True)
class ReceiverEntry:
    """One Receiver and its token, ready to serve at :attr:`path`."""

    receiver: Receiver
    token: SecretValue

    @property
    def path(self) -> str:
        """The webhook path, ``/hook/<sha256>``."""
        return self.receiver.webhook_path(self.token.reveal())

    @property
    def label(self) -> str:
        """``namespace/name``, for metrics, logs and responses."""
        return f"{self.receiver.namespace}/{self.receiver.name}"


class ReceiverTable:
    """The Receivers being served, by path; replaced as a whole on every reload."""

    def __init__(self, entries: Iterable[ReceiverEntry] = ()) -> None:
        self._by_path: dict[str, ReceiverEntry] = {}
        self.replace(entries)

    def replace(self, entries: Iterable[ReceiverEntry]) -> None:
        """Serve exactly ``entries`` from now on."""
        self._by_path = {entry.path: entry for entry in entries}

    def find(self, path: str) -> ReceiverEntry | None:
        """The entry whose webhook path is ``path`` (a sha256 digest: lookup leaks nothing)."""
        return self._by_path.get(path)

    def entries(self) -> list[ReceiverEntry]:
        """Every entry, sorted by namespace and name."""
        return sorted(self._by_path.values(), key=lambda entry: entry.receiver.key)


def receiver_entries(
    receivers: Iterable[Receiver], secrets: SecretIndex
) -> tuple[list[ReceiverEntry], list[str]]:
    """Pair each Receiver with its Secret's ``token``; problems name what is missing.

    A Receiver whose Secret or token is missing, or whose token is empty (its path would
    be guessable from its name), is left out (not served) and reported.
    """
    entries: list[ReceiverEntry] = []
    problems: list[str] = []
    for receiver in receivers:
        wanted_by = f"Receiver {receiver.namespace}/{receiver.name}"
        try:
            secret = secrets.get(
                receiver.namespace,
                receiver.secret_name,
                wanted_by=wanted_by,
                reason="TokenNotFound",
            )
            token = secret.require(TOKEN_KEY, purpose="the webhook path and signatures")
        except MissingSecretError as error:
            problems.append(error.message)
            continue
        if not token.reveal().strip():
            problems.append(f"{wanted_by}: the 'token' in Secret '{receiver.secret_name}' is empty")
            continue
        entries.append(ReceiverEntry(receiver, token))
    return entries, problems


def _labels(engine: ServerEngine, key: ObjectKey) -> dict[str, str] | None:
    try:
        labels: dict[str, str] | None = engine.object(key).metadata.labels
    except KeyError:
        return None
    return labels


def _selected(receiver: Receiver, engine: ServerEngine) -> list[ObjectKey]:
    chosen: list[ObjectKey] = []
    loaded_keys = engine.keys()
    for key in loaded_keys:
        labels = _labels(engine, key)
        for entry in receiver.spec.resources:
            if entry.kind == key.kind and entry.selects(
                key.name, key.namespace, labels, home=receiver.namespace
            ):
                chosen.append(key)
                break
    return chosen


def delivery_targets(
    receiver: Receiver, engine: ServerEngine, images: Sequence[str] = ()
) -> list[ObjectKey]:
    """The objects a verified delivery to ``receiver`` asks to reconcile, sorted.

    ``images`` (canonical names the body says were pushed) restrict ImageRepositories.
    """
    chosen = [key for key in _selected(receiver, engine) if key.kind in RECONCILABLE_KINDS]
    if images:
        pushed = {key for image in images for key in engine.repositories_for_image(image)}
        chosen = [key for key in chosen if key.kind != IMAGE_REPOSITORY.kind or key in pushed]
    return sorted(chosen)
