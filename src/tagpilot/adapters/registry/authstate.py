"""What a registry client has learnt about auth, and the decisions it makes from it.

Shared by both registry clients: the challenge each registry sent (learnt from a 401), the
credentials found for it, and cached bearer tokens.  The clients only do the I/O around it
(running a credential helper, asking the token service); every decision and message is here.
"""

from __future__ import annotations

from tagpilot.adapters.registry.answer import Answer
from tagpilot.adapters.registry.auth import (
    Challenge,
    TokenCache,
    TokenRequest,
    parse_challenge,
    read_token,
    token_request,
)
from tagpilot.adapters.registry.credentials import AuthConfig, Credentials
from tagpilot.adapters.registry.errors import RegistryAuthError
from tagpilot.core.imageref import Repository

__all__ = ["AuthState"]


class AuthState:
    """Challenges, resolved credentials and tokens per registry, for one client."""

    def __init__(self, credentials: Credentials | None, tokens: TokenCache | None = None) -> None:
        self.credentials = credentials
        self._challenges: dict[str, Challenge] = {}
        self._tokens = tokens if tokens is not None else TokenCache()
        self._auth: dict[str, AuthConfig | None] = {}

    @property
    def source(self) -> str:
        """Where the credentials come from, for messages."""
        return self.credentials.source if self.credentials else "no docker config"

    def challenge(self, registry: str) -> Challenge | None:
        """The challenge ``registry`` answered with, once a request was refused."""
        return self._challenges.get(registry)

    def resolved(self, registry: str) -> bool:
        """Whether the credentials for ``registry`` were looked up already."""
        return registry in self._auth

    def remember(self, registry: str, auth: AuthConfig | None) -> None:
        """Keep the credentials looked up for ``registry`` (``None``: anonymous)."""
        self._auth[registry] = auth

    def auth(self, registry: str) -> AuthConfig | None:
        """The credentials looked up for ``registry``."""
        return self._auth.get(registry)

    def learn(
        self,
        response: Answer,
        repository: Repository,
        scope: str,
        attempt: int,
        authorization: str | None,
    ) -> None:
        """Take a 401's challenge; refuse when the credentials just sent were not enough."""
        registry = repository.registry
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            raise RegistryAuthError(f"registry {registry} answered 401 without a usable challenge")
        if attempt == 2 or (authorization and challenge.scheme == "basic"):
            raise RegistryAuthError(self.refused(repository))
        self._challenges[registry] = challenge
        self._tokens.drop(registry, scope)

    def no_entry(self, repository: Repository, auth: AuthConfig | None) -> str | None:
        """What to say when the docker config has no credentials for the registry, or None."""
        if auth is not None or self.credentials is None:
            return None
        return self.credentials.no_entry_message(repository.registry, repository.path)

    def refused(self, repository: Repository) -> str:
        """The message when the registry refused what was sent."""
        registry = repository.registry
        auth = self._auth.get(registry)
        if (missing := self.no_entry(repository, auth)) is not None:
            return missing
        who = "anonymous access" if auth is None else "the credentials"
        return (
            f"registry {registry} refused {who} (from {self.source}) for repository"
            f" {repository.path}; check the credentials and that they may pull it"
        )

    def header(
        self, repository: Repository, challenge: Challenge, scope: str, auth: AuthConfig | None
    ) -> str | None:
        """The ``Authorization`` value known without asking anyone; ``None``: fetch a token."""
        if challenge.scheme == "basic":
            if (missing := self.no_entry(repository, auth)) is not None:
                raise RegistryAuthError(missing)
            if auth is None or not auth.has_basic:
                raise RegistryAuthError(
                    f"registry {repository.registry} requires a username and password and none"
                    " are configured for it (secretRef / --docker-config)"
                )
            return auth.basic_header()
        if auth is not None and auth.registry_token:
            return f"Bearer {auth.registry_token}"
        token = self._tokens.get(repository.registry, scope)
        return None if token is None else f"Bearer {token}"

    def token_request(
        self, challenge: Challenge, scope: str, auth: AuthConfig | None, registry_url: str
    ) -> TokenRequest:
        """The request for a bearer token (a realm weaker than ``registry_url`` is refused)."""
        return token_request(challenge, scope, auth, registry_url)

    def accept_token(
        self,
        response: Answer,
        repository: Repository,
        challenge: Challenge,
        scope: str,
        auth: AuthConfig | None,
    ) -> str:
        """Read and cache the token service's answer; the ``Authorization`` value."""
        refused = self.no_entry(repository, auth)
        token, expires_in = read_token(response, challenge, scope, auth, self.source, refused)
        self._tokens.put(repository.registry, scope, token, expires_in)
        return f"Bearer {token}"
