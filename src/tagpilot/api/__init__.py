"""Flux-compatible API objects: models, defaults, validation, YAML load and dump.

The names below are the package's promise to the rest of tagpilot.  Each kind is described
once, by a :class:`KindDescriptor`; submodules hold the details (:mod:`~tagpilot.api.meta`
for reasons and references, :mod:`~tagpilot.api.duration` for Go durations,
:mod:`~tagpilot.api.goyaml` for the go-yaml v2 printer).
"""

from __future__ import annotations

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.descriptors import KindDescriptor
from tagpilot.api.dump import dump_yaml
from tagpilot.api.duration import Duration
from tagpilot.api.export import export_objects
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kinds import AnyObject
from tagpilot.api.loader import LoadedObject, LoadResult, ManifestError, parse_object
from tagpilot.api.meta import Condition, ImageRef, NamespacedName
from tagpilot.api.secret import Secret
from tagpilot.api.source import GitRepository

__all__ = [
    "AnyObject",
    "Condition",
    "Duration",
    "GitRepository",
    "ImagePolicy",
    "ImageRef",
    "ImageRepository",
    "ImageUpdateAutomation",
    "KindDescriptor",
    "LoadResult",
    "LoadedObject",
    "ManifestError",
    "NamespacedName",
    "Secret",
    "dump_yaml",
    "export_objects",
    "parse_object",
]
