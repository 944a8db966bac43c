"""The Kustomization pipeline's pure core: substitution, health, inventory, staging, change sets."""
