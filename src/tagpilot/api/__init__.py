"""Flux-compatible API objects: models, defaults, validation, YAML load and dump."""
