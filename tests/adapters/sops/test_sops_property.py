"""Property: any document tagpilot encrypts decrypts back to itself, for every crypt rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyrage
from hypothesis import given, settings
from hypothesis import strategies as st

from tagpilot.adapters.sops import AgeIdentities, CryptRule, decrypt_text, encrypt_document
from tagpilot.adapters.sops.format import INT64_MAX, INT64_MIN
from tagpilot.adapters.sops.tree import MapNode, from_plain
from tagpilot.adapters.sops.yamlemit import emit_yaml

IDENTITY = pyrage.x25519.Identity.generate()
RECIPIENT = str(IDENTITY.to_public())

_tricky = st.sampled_from(["yes", "on", "~", "null", "- x", "a: b", "#x", " x", "x\n", "a\n\n"])
_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.from_regex(r"[-+.0-9eExob_:T ]{1,8}", fullmatch=True),
    _tricky,
)
_keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
_scalars = st.one_of(
    _text,
    st.integers(INT64_MIN, INT64_MAX),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.datetimes(timezones=st.just(UTC)),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=15,
)
_documents = st.dictionaries(_keys.filter(lambda k: k != "sops"), _values, min_size=1, max_size=5)
_rules = st.sampled_from(
    [
        CryptRule(),
        CryptRule(encrypted_regex="^(data|stringData)$"),
        CryptRule(unencrypted_regex="a", mac_only_encrypted=True),
        CryptRule(encrypted_suffix="x"),
    ]
)


@settings(max_examples=50, deadline=None)
@given(document=_documents, rule=_rules)
def test_decrypt_of_encrypt_is_the_identity(document: dict[str, Any], rule: CryptRule) -> None:
    tree = from_plain(document)
    assert isinstance(tree, MapNode)
    plaintext = emit_yaml([tree])
    encrypted = encrypt_document(
        plaintext, path="doc.yaml", recipients=[RECIPIENT], crypt=rule, now=datetime.now(UTC)
    )
    identities = AgeIdentities((IDENTITY,), ("generated",))
    decrypted = decrypt_text(encrypted, file="doc.yaml", identities=identities)
    assert decrypted.documents == (document,)
