"""The Flux objects the scale benchmarks generate: the same shapes for the daemon and the
cluster controller, so their figures describe the same work."""

from __future__ import annotations

__all__ = ["automation_objects", "image_objects", "marked_deployment"]


def image_objects(namespace: str, name: str, image: str, *, insecure: bool = False) -> str:
    """An ImageRepository (1m interval) and a semver ImagePolicy named ``name``."""
    plain = "  insecure: true\n" if insecure else ""
    return (
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\nspec:\n  image: {image}\n  interval: 1m\n"
        f"{plain}---\n"
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\nspec:\n  imageRepositoryRef:\n"
        f"    name: {name}\n  policy:\n    semver:\n      range: '>=1.0.0'\n---\n"
    )


def automation_objects(namespace: str, name: str, url: str, ssh_secret: str | None = None) -> str:
    """A GitRepository on ``main`` and an ImageUpdateAutomation pushing back to it."""
    secret_ref = f"  secretRef:\n    name: {ssh_secret}\n" if ssh_secret else ""
    return (
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\nspec:\n  interval: 1m\n  url: {url}\n"
        f"  ref:\n    branch: main\n{secret_ref}---\n"
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\nspec:\n  interval: 1m\n  sourceRef:\n"
        f"    kind: GitRepository\n    name: {name}\n  git:\n    checkout:\n      ref:\n"
        "        branch: main\n    commit:\n      author:\n        name: bench\n"
        "        email: bench@example.com\n    push:\n      branch: main\n"
        "  update:\n    strategy: Setters\n    path: ./\n---\n"
    )


def marked_deployment(namespace: str, images: list[tuple[str, str]]) -> str:
    """One Deployment with a container per (image, policy), each carrying its marker."""
    containers = "".join(
        f"      - name: c{index}\n        image: {image}:1.0.0 "
        f'# {{"$imagepolicy": "{namespace}:{policy}"}}\n'
        for index, (image, policy) in enumerate(images)
    )
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n"
        f"    spec:\n      containers:\n{containers}"
    )
