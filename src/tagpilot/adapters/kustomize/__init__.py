"""Kustomization builds: confinement, SOPS decryption and the pinned kubectl kustomize."""

from __future__ import annotations

from tagpilot.adapters.kustomize.build import BuildRequest, build, kubectl_path
from tagpilot.core.kustomize.generate import BuildError

__all__ = ["BuildError", "BuildRequest", "build", "kubectl_path"]
