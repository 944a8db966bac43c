"""Leaf walk of a sops tree: which values are encrypted, their AAD, and the MAC.

Called by ``api`` after a store has parsed a file.  The walk mirrors sops' ``walkBranch``:
mappings in order with the key appended to the path, sequences without their index, nulls
skipped, comments passed to the crypt rule with the comments that precede each value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import re2

from tagpilot.adapters.sops.errors import SopsDecryptError
from tagpilot.adapters.sops.format import (
    INT64_MAX,
    INT64_MIN,
    Scalar,
    decrypt_scalar,
    encrypt_scalar,
    to_bytes,
)
from tagpilot.adapters.sops.tree import Comment, Document, ListNode, MapNode, Node

__all__ = [
    "DEFAULT_UNENCRYPTED_SUFFIX",
    "CryptRule",
    "LeafFunction",
    "check_int64",
    "decrypt_documents",
    "encrypt_documents",
    "walk_documents",
]

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
_MAC_ONLY_ENCRYPTED_SEED = hashlib.sha256(b"sops").digest()

Path = tuple[str, ...]
CommentsStack = tuple[tuple[str, ...], ...]
LeafFunction = Callable[[Scalar | Comment, Path, CommentsStack], Scalar | Comment]
"""Called for every non-null leaf and comment with its key path and the comments stack."""


@dataclass(frozen=True)
class CryptRule:
    """The one rule deciding which leaves are encrypted, plus ``mac_only_encrypted``.

    Field names are the metadata keys sops writes.  At most one rule may be set; with none set,
    ``normalized()`` applies sops' default ``unencrypted_suffix: _unencrypted``.
    """

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    unencrypted_comment_regex: str = ""
    encrypted_comment_regex: str = ""
    mac_only_encrypted: bool = False
    _compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = self.active_names()
        if len(names) > 1:
            raise ValueError(f"only one crypt rule may be set, got {', '.join(names)}")
        for name in names:
            if name.endswith("_regex"):
                self._compiled[name] = _compile(name, getattr(self, name))

    def active_names(self) -> list[str]:
        """Return the names of the string rules that are set (at most one after validation)."""
        return [f.name for f in fields(self) if f.type == "str" and getattr(self, f.name)]

    def normalized(self) -> CryptRule:
        """Return this rule, or the default unencrypted suffix rule when none is set."""
        if self.active_names():
            return self
        return CryptRule(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )

    def should_encrypt(self, path: Path, stack: CommentsStack, is_comment: bool) -> bool:
        """Decide like sops' ``shouldBeEncrypted`` for a leaf at ``path``."""
        if self.unencrypted_suffix:
            return not any(p.endswith(self.unencrypted_suffix) for p in path)
        if self.encrypted_suffix:
            return any(p.endswith(self.encrypted_suffix) for p in path)
        if self.unencrypted_regex:
            return not self._any_match("unencrypted_regex", path)
        if self.encrypted_regex:
            return self._any_match("encrypted_regex", path)
        if self.unencrypted_comment_regex:
            flat = [c for level in stack for c in level]
            return not self._any_match("unencrypted_comment_regex", flat)
        if self.encrypted_comment_regex:
            return self._any_match("encrypted_comment_regex", _preceding(stack, is_comment))
        return True

    def _any_match(self, name: str, texts: Path | list[str]) -> bool:
        pattern = self._compiled[name]
        return any(pattern.search(text) is not None for text in texts)


def _compile(name: str, expression: str) -> Any:
    try:
        return re2.compile(expression)
    except re2.error as exc:
        raise ValueError(f"{name} {expression!r} is not a valid RE2 expression: {exc}") from exc


def _preceding(stack: CommentsStack, is_comment: bool) -> list[str]:
    """Comments that may turn on encryption; a comment never enables itself."""
    flat = [c for level in stack for c in level]
    return flat[:-1] if is_comment and stack and stack[-1] else flat


def check_int64(value: int) -> bool:
    """Tell whether ``value`` fits Go's ``int`` (int64), the only integer sops can walk."""
    return INT64_MIN <= value <= INT64_MAX


def walk_documents(documents: list[Document], on_leaf: LeafFunction) -> list[Document]:
    """Return new documents with every leaf and comment replaced by ``on_leaf``'s result."""
    return [_walk_map(doc, (), (), on_leaf) for doc in documents]


def _walk_value(
    node: Node, path: Path, stack: CommentsStack, on_leaf: LeafFunction
) -> Node | Comment:
    """Walk one value; a leaf may come back as a comment (see ``_decrypt_leaf``)."""
    if isinstance(node, MapNode):
        return _walk_map(node, path, stack, on_leaf)
    if isinstance(node, ListNode):
        return _walk_list(node, path, stack, on_leaf)
    if node is None:
        return None
    return on_leaf(node, path, stack)


def _walk_map(node: MapNode, path: Path, stack: CommentsStack, on_leaf: LeafFunction) -> MapNode:
    items: list[tuple[str, Node] | Comment] = []
    pending: list[str] = []
    for item in node.items:
        if isinstance(item, Comment):
            pending.append(item.text)
            items.append(_walk_comment(item, path, (*stack, tuple(pending)), on_leaf))
            continue
        key, value = item
        walked = _walk_value(value, (*path, key), (*stack, tuple(pending)), on_leaf)
        items.append((key, walked.text if isinstance(walked, Comment) else walked))
        pending = []
    return MapNode(tuple(items))


def _walk_list(node: ListNode, path: Path, stack: CommentsStack, on_leaf: LeafFunction) -> ListNode:
    items: list[Node | Comment] = []
    pending: list[str] = []
    for item in node.items:
        if isinstance(item, Comment):
            pending.append(item.text)
            items.append(_walk_comment(item, path, (*stack, tuple(pending)), on_leaf))
            continue
        items.append(_walk_value(item, path, (*stack, tuple(pending)), on_leaf))
        pending = []
    return ListNode(tuple(items))


def _walk_comment(
    item: Comment, path: Path, stack: CommentsStack, on_leaf: LeafFunction
) -> Comment:
    result = on_leaf(item, path, stack)
    return result if isinstance(result, Comment) else Comment(str(result))


def _new_mac_hash(rule: CryptRule) -> Any:
    digest = hashlib.sha512()
    if rule.mac_only_encrypted:
        digest.update(_MAC_ONLY_ENCRYPTED_SEED)
    return digest


def _aad(path: Path) -> str:
    return ":".join(path) + ":"


def encrypt_documents(
    documents: list[Document], key: bytes, rule: CryptRule
) -> tuple[list[Document], str]:
    """Encrypt the leaves ``rule`` selects; return the new documents and the MAC (upper hex)."""
    digest = _new_mac_hash(rule)

    def on_leaf(leaf: Scalar | Comment, path: Path, stack: CommentsStack) -> Scalar | Comment:
        is_comment = isinstance(leaf, Comment)
        encrypted = rule.should_encrypt(path, stack, is_comment)
        if not is_comment and (encrypted or not rule.mac_only_encrypted):
            digest.update(to_bytes(leaf))  # type: ignore[arg-type]
        if not encrypted:
            return leaf
        if isinstance(leaf, Comment):
            return Comment(encrypt_scalar(leaf.text, key, _aad(path), type_="comment"))
        return encrypt_scalar(leaf, key, _aad(path))

    encrypted_docs = walk_documents(documents, on_leaf)
    return encrypted_docs, digest.hexdigest().upper()


def decrypt_documents(
    documents: list[Document], key: bytes, rule: CryptRule
) -> tuple[list[Document], str]:
    """Decrypt the leaves ``rule`` selects; return plain documents and the recomputed MAC.

    A comment that does not decrypt is kept as it is, as sops does for files from old versions.
    """
    digest = _new_mac_hash(rule)

    def on_leaf(leaf: Scalar | Comment, path: Path, stack: CommentsStack) -> Scalar | Comment:
        is_comment = isinstance(leaf, Comment)
        encrypted = rule.should_encrypt(path, stack, is_comment)
        value = _decrypt_leaf(leaf, key, path) if encrypted else leaf
        if not isinstance(value, Comment) and (encrypted or not rule.mac_only_encrypted):
            digest.update(to_bytes(value))
        return value

    return walk_documents(documents, on_leaf), digest.hexdigest().upper()


def _decrypt_leaf(leaf: Scalar | Comment, key: bytes, path: Path) -> Scalar | Comment:
    if isinstance(leaf, Comment):
        try:
            return Comment(str(decrypt_scalar(leaf.text, key, _aad(path))[0]))
        except SopsDecryptError:
            return leaf
    where = ".".join(path) or "<root>"
    if not isinstance(leaf, str):
        raise SopsDecryptError(
            f"value at {where} should be encrypted but is a plain {type(leaf).__name__}"
        )
    try:
        value, type_ = decrypt_scalar(leaf, key, _aad(path))
    except SopsDecryptError as exc:
        raise SopsDecryptError(f"cannot decrypt the value at {where}: {exc}") from exc
    # sops stores a comment inside a sequence as an item of type comment; it is no value
    return Comment(str(value)) if type_ == "comment" else value
