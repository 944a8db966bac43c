"""Which leaves a crypt rule encrypts: sops' ``shouldBeEncrypted`` as a table."""

from __future__ import annotations

import pytest

from tagpilot.adapters.sops.walk import CryptRule

DEFAULT = CryptRule().normalized()
FLUX = CryptRule(encrypted_regex="^(data|stringData)$")


@pytest.mark.parametrize(
    ("rule", "path", "comments", "expected"),
    [
        pytest.param(DEFAULT, ("stringData", "password"), (), True, id="default-encrypts-all"),
        pytest.param(DEFAULT, ("a_unencrypted", "b"), (), False, id="suffix-covers-subtree"),
        pytest.param(DEFAULT, (), (), True, id="default-encrypts-top-comments"),
        pytest.param(FLUX, ("stringData", "password"), (), True, id="flux-regex-data"),
        pytest.param(FLUX, ("metadata", "name"), (), False, id="flux-regex-metadata-plain"),
        pytest.param(FLUX, (), (), False, id="flux-regex-top-comment-plain"),
        pytest.param(FLUX, ("my-data", "x"), (), False, id="regex-anchors-are-honoured"),
        pytest.param(
            CryptRule(encrypted_regex="data"), ("my-data", "x"), (), True, id="regex-unanchored"
        ),
        pytest.param(
            CryptRule(encrypted_suffix="_secret"), ("db_secret", "pw"), (), True, id="enc-suffix"
        ),
        pytest.param(
            CryptRule(encrypted_suffix="_secret"), ("db", "pw"), (), False, id="enc-suffix-miss"
        ),
        pytest.param(
            CryptRule(unencrypted_regex="^meta"), ("metadata", "x"), (), False, id="unenc-regex"
        ),
        pytest.param(
            CryptRule(encrypted_comment_regex="sops:enc"),
            ("a",),
            (("sops:enc",),),
            True,
            id="comment-turns-encryption-on",
        ),
        pytest.param(
            CryptRule(unencrypted_comment_regex="sops:plain"),
            ("a",),
            (("sops:plain",),),
            False,
            id="comment-turns-encryption-off",
        ),
    ],
)
def test_crypt_rule_decides_like_sops(
    rule: CryptRule, path: tuple[str, ...], comments: tuple[tuple[str, ...], ...], expected: bool
) -> None:
    assert rule.should_encrypt(path, comments, is_comment=False) is expected


def test_the_comment_that_enables_encryption_stays_plain() -> None:
    rule = CryptRule(encrypted_comment_regex="sops:enc")
    assert rule.should_encrypt(("a",), (("sops:enc",),), is_comment=True) is False


def test_two_crypt_rules_at_once_are_refused() -> None:
    with pytest.raises(ValueError, match="only one crypt rule"):
        CryptRule(encrypted_regex="x", unencrypted_suffix="_u")


def test_an_invalid_re2_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid RE2"):
        CryptRule(encrypted_regex="(?<=x)y")
