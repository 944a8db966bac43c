"""``tagpilot create secret git|registry NAME ... --export [--sops]``.

``create secret git`` follows ``flux create secret git``; ``create secret registry`` follows
``kubectl create secret docker-registry``.  Secrets can come from stdin so they stay out of
shell history and ``ps``; ``--sops`` encrypts ``data``/``stringData`` for committing.
"""

from __future__ import annotations

import sys

import click

from tagpilot.api.secret import docker_config_json, docker_registry_secret, string_data_secret
from tagpilot.cli.create_common import common_options, finish, object_metadata, text_flags
from tagpilot.cli.create_flags import git_url_scheme, require
from tagpilot.cli.gitauth import SshKeyOptions, http_auth_values, ssh_auth_values
from tagpilot.cli.secret_sops import SopsExport, sops_options
from tagpilot.core.errors import InvalidInputError

__all__ = ["secret"]


@click.group()
def secret() -> None:
    """Create Secrets for Git and registry authentication."""


def _stdin_secret(given: str, from_stdin: bool, flag: str) -> str:
    if from_stdin:
        if given:
            raise InvalidInputError(f"{flag} and {flag}-stdin cannot be used together")
        return sys.stdin.read().rstrip("\r\n")
    return given


def _read_file(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise InvalidInputError(f"{flag}: cannot read {path}: {error.strerror}") from None


@secret.command("git")
@click.argument("name")
@text_flags(
    ("--url", "Git address, e.g. ssh://git@host/org/repository."),
)
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option(
    "-p", "--password", default="", help="Basic authentication password (prefer --password-stdin)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@text_flags(
    ("--bearer-token", "Bearer authentication token."),
    ("--private-key-file", "Path to a private key file for the Git SSH server."),
    ("--known-hosts-file", "Path to known_hosts lines for the SSH server."),
)
@click.option(
    "--ssh-key-algorithm",
    default="ecdsa",
    show_default=True,
    help="Generated key algorithm: rsa, ecdsa, ed25519.",
)
@click.option(
    "--ssh-ecdsa-curve", default="p384", show_default=True, help="ECDSA curve: p256, p384, p521."
)
@click.option("--ssh-rsa-bits", default=2048, show_default=True, help="RSA key size.")
@text_flags(
    ("--ca-crt-file", "Path to a TLS CA certificate file for self-signed servers."),
)
@common_options
@sops_options
def create_secret_git(
    *,
    sops: bool,
    sops_age: tuple[str, ...],
    sops_path: str,
    name: str,
    url: str,
    username: str,
    password: str,
    password_stdin: bool,
    bearer_token: str,
    private_key_file: str,
    known_hosts_file: str,
    ssh_key_algorithm: str,
    ssh_ecdsa_curve: str,
    ssh_rsa_bits: int,
    ca_crt_file: str,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create a Secret with Git credentials (SSH key and known_hosts, or HTTP/S basic/bearer)."""
    metadata = object_metadata(name, namespace, labels)
    scheme = git_url_scheme(url)
    password = _stdin_secret(password, password_stdin, "--password")
    if scheme == "ssh":
        options = SshKeyOptions(ssh_key_algorithm, ssh_ecdsa_curve, ssh_rsa_bits)
        key = (
            _read_file(private_key_file, "--private-key-file").encode()
            if private_key_file
            else None
        )
        known_hosts = _read_file(known_hosts_file, "--known-hosts-file") if known_hosts_file else ""
        values = ssh_auth_values(key, known_hosts, password, options)
    else:
        ca_crt = _read_file(ca_crt_file, "--ca-crt-file") if ca_crt_file else ""
        values = http_auth_values(username, password, bearer_token, ca_crt)
    obj = string_data_secret(metadata["name"], namespace, values, metadata.get("labels"))
    finish(obj, export, SopsExport(sops, sops_age, sops_path))


@secret.command("registry")
@click.argument("name")
@click.option(
    "--docker-server",
    default="https://index.docker.io/v1/",
    show_default=True,
    help="Registry server.",
)
@text_flags(
    ("--docker-username", "Username for registry authentication."),
    ("--docker-password", "Password (prefer --docker-password-stdin)."),
)
@click.option(
    "--docker-password-stdin", is_flag=True, help="Read the registry password from stdin."
)
@text_flags(
    ("--docker-email", "Email for the registry (optional)."),
)
@common_options
@sops_options
def create_secret_registry(
    *,
    sops: bool,
    sops_age: tuple[str, ...],
    sops_path: str,
    name: str,
    docker_server: str,
    docker_username: str,
    docker_password: str,
    docker_password_stdin: bool,
    docker_email: str,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create a kubernetes.io/dockerconfigjson Secret, like kubectl's docker-registry secret."""
    metadata = object_metadata(name, namespace, labels)
    docker_password = _stdin_secret(docker_password, docker_password_stdin, "--docker-password")
    require(
        (
            (docker_username, "--docker-username is required"),
            (docker_password, "--docker-password (or --docker-password-stdin) is required"),
        )
    )
    config = docker_config_json(
        docker_server, docker_username, docker_password, docker_email or None
    )
    secret_obj = docker_registry_secret(metadata["name"], namespace, config, metadata.get("labels"))
    finish(secret_obj, export, SopsExport(sops, sops_age, sops_path))
