"""tagpilot: Flux-compatible image update automation without a cluster.

The package reads Flux's image automation objects (ImageRepository, ImagePolicy,
ImageUpdateAutomation, GitRepository, Secret), selects the newest tag per policy and
writes it back to Git.  Layers: ``api`` and ``core`` are pure, ``adapters`` do I/O,
``reconcile`` orchestrates through ``ports``, ``cli``/``runtime``/``server`` wire it up.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
