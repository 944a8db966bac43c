"""``tagpilot sops encrypt|decrypt``: a drop-in for the common sops commands, age keys only.

The lead wires ``sops_group`` into ``tagpilot.cli.main:cli``.  Output goes to stdout unless
``-i`` rewrites the file in place (see :mod:`tagpilot.adapters.atomic`: a temporary file
beside it under a name the next run recognises and removes, then ``os.replace``).
Exit codes: 2 for bad input (flags, malformed files, no matching rule), 1 when decryption fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tagpilot.adapters.atomic import remove_leftovers, write_atomically
from tagpilot.adapters.sops import (
    AgeIdentities,
    CryptRule,
    SopsConfig,
    decrypt_file,
    encrypt_document,
    find_config,
    identities_from_env,
    load_config,
    load_identity_file,
)
from tagpilot.cli.errors import GuardedGroup
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["decrypt_command", "encrypt_command", "sops_group", "write_atomically"]

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("sops", cls=GuardedGroup)
def sops_group() -> None:
    """Encrypt and decrypt files with SOPS and age, compatible with the sops binary."""


@sops_group.command("encrypt")
@click.argument("file", type=_FILE)
@click.option("-i", "--in-place", is_flag=True, help="Replace FILE instead of printing.")
@click.option("--age", "age", metavar="RECIPIENTS", help="Comma-separated age recipients.")
@click.option("--config", "config_path", type=_FILE, help="The .sops.yaml to use.")
@click.option("--encrypted-regex", default="", help="Encrypt only keys matching this RE2.")
@click.option("--unencrypted-regex", default="", help="Leave keys matching this RE2 plain.")
@click.option("--encrypted-suffix", default="", help="Encrypt only keys with this suffix.")
@click.option("--unencrypted-suffix", default="", help="Leave keys with this suffix plain.")
def encrypt_command(
    file: Path, in_place: bool, age: str | None, config_path: Path | None, **crypt_flags: str
) -> None:
    """Encrypt FILE using the .sops.yaml creation rule matching it (or --age)."""
    crypt = _crypt_rule(crypt_flags)
    config = _config(config_path, file, needed=not age)
    content = _read(file)
    encrypted = encrypt_document(
        content, path=file, recipients=age or (), rules=config, crypt=crypt
    )
    _output(file, encrypted.encode("utf-8"), in_place)


@sops_group.command("decrypt")
@click.argument("file", type=_FILE)
@click.option("-i", "--in-place", is_flag=True, help="Replace FILE instead of printing.")
@click.option(
    "--age-key-file", type=_FILE, help="Age identities (default: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY)."
)
@click.option("--ignore-mac", is_flag=True, help="Do not refuse a file whose MAC does not match.")
def decrypt_command(
    file: Path, in_place: bool, age_key_file: Path | None, ignore_mac: bool
) -> None:
    """Decrypt FILE with age identities; refuses a tampered file unless --ignore-mac."""
    identities = _identities(age_key_file)
    decrypted = decrypt_file(file, identities=identities, verify_mac=not ignore_mac)
    _output(file, decrypted.content, in_place)


def _crypt_rule(flags: dict[str, str]) -> CryptRule | None:
    try:
        rule = CryptRule(
            encrypted_regex=flags["encrypted_regex"],
            unencrypted_regex=flags["unencrypted_regex"],
            encrypted_suffix=flags["encrypted_suffix"],
            unencrypted_suffix=flags["unencrypted_suffix"],
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc), location=SourceLocation("command line")) from exc
    return rule if rule.active_names() else None


def _config(config_path: Path | None, file: Path, *, needed: bool) -> SopsConfig | None:
    """Load --config, or the .sops.yaml found above the working directory (as sops does)."""
    path = config_path or find_config(Path.cwd())
    if path is None:
        if needed:
            raise InvalidInputError(
                "no .sops.yaml found and no --age given: cannot tell whom to encrypt for",
                location=SourceLocation(str(file)),
            )
        return None
    config = load_config(path)
    if not needed and not any(rule.matches(_relative(file, config)) for rule in config.rules):
        return None
    return config


def _relative(file: Path, config: SopsConfig) -> str:
    return os.path.relpath(file.absolute(), config.directory)


def _identities(age_key_file: Path | None) -> AgeIdentities:
    if age_key_file is not None:
        return load_identity_file(age_key_file)
    return identities_from_env(os.environ)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read file: {exc.strerror}", location=SourceLocation(str(file))
        ) from exc


def _output(file: Path, content: bytes, in_place: bool) -> None:
    if in_place:
        # A run killed before its rename left plaintext beside the file: remove it first.
        remove_leftovers(file.parent, file.name)
        write_atomically(file, content, sync=True)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
