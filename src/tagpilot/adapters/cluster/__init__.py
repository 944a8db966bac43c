"""Adapters that put the engine's ports on a Kubernetes API server: objects from watches,
statuses through the status subresource, Events, Secrets."""
