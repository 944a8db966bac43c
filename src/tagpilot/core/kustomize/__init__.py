"""The Kustomization pipeline's pure parts (Flux's kustomize-controller)."""
