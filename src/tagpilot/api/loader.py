"""Load Flux objects from manifest files and directories, with file:line for every problem.

:func:`load_text` reads every YAML document of a text with ruamel's round-trip loader so
each node knows its line, and validates the kinds tagpilot handles.  Other kinds are
skipped and counted, unless their kind or API group is a near miss of a Flux one
(:mod:`tagpilot.api.kindcheck`), which is an error with a suggestion.  SOPS-encrypted
documents (a top-level ``sops`` map with ``mac``) are returned undecrypted with
``encrypted=True`` and their raw mapping; after decryption, :func:`parse_object` validates
them.  All problems of a load are collected and raised as one :class:`ManifestError`; a
text that is not YAML at all raises :class:`UnreadableManifestError` problems, which tree
walkers may report and skip.  Hostile YAML (deep nesting, alias bombs) is refused before
loading by :mod:`tagpilot.api.yamlguard`.

Pure: text and mappings in, objects out.  ``tagpilot.adapters.manifests.load_paths`` walks
files and directories and decrypts SOPS files, then calls in here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tagpilot.api.kindcheck import check_kind
from tagpilot.api.kinds import KIND_MODELS, AnyObject, model_for
from tagpilot.api.meta import DEFAULT_NAMESPACE
from tagpilot.api.problems import Problem, problems_from, quoted
from tagpilot.api.yamlguard import YamlLimitError, check_yaml_limits
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = [
    "MANIFEST_SUFFIXES",
    "LoadResult",
    "LoadedObject",
    "ManifestError",
    "UnreadableManifestError",
    "find_duplicates",
    "is_sops_encrypted",
    "is_unreadable",
    "load_text",
    "parse_object",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_KNOWN_KINDS = {kind: versions for kind, (_, versions) in KIND_MODELS.items()}
"""Each kind tagpilot reads and its apiVersions, for :func:`check_kind`."""


class ManifestError(InvalidInputError):
    """Every problem found in one load; ``problems`` holds them one by one."""

    def __init__(self, problems: Sequence[InvalidInputError]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            only = self.problems[0]
            super().__init__(only.detail, location=only.location)
        else:
            listed = "\n".join(f"  {problem}" for problem in self.problems)
            super().__init__(f"{len(self.problems)} problems in manifests:\n{listed}")


class UnreadableManifestError(InvalidInputError):
    """A file that does not read as YAML at all (a syntax error, a value no type holds)."""


def is_unreadable(problems: Sequence[InvalidInputError]) -> bool:
    """Whether these problems of one file mean it is not YAML tagpilot can read at all.

    Such a file may be anything (a Helm chart template, a stray document): callers that load
    a whole tree report it and go on, while problems in readable Flux objects stay errors.
    """
    return any(isinstance(p, UnreadableManifestError | YamlLimitError) for p in problems)


@dataclass(frozen=True)
class LoadedObject:
    """One object from a manifest, with where it starts; ``obj`` is None when encrypted."""

    obj: AnyObject | None
    source: SourceLocation
    encrypted: bool = False
    raw: Mapping[str, Any] | None = None
    default_namespace: str = DEFAULT_NAMESPACE

    @property
    def kind(self) -> str:
        """The document's kind."""
        return self.obj.kind if self.obj else str(_get(self.raw, "kind", ""))

    @property
    def name(self) -> str:
        """The document's ``metadata.name``."""
        return self.obj.name if self.obj else str(_get(_get(self.raw, "metadata", {}), "name", ""))

    @property
    def namespace(self) -> str:
        """The document's namespace (the load's default when it names none)."""
        if self.obj:
            return self.obj.namespace
        namespace = _get(_get(self.raw, "metadata", {}), "namespace", None)
        return str(namespace or self.default_namespace)


@dataclass
class LoadResult:
    """Objects found (file and document order), how many documents of each kind were skipped,
    and the problems of files left out because they could not be read (when asked to go on)."""

    objects: list[LoadedObject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[InvalidInputError] = field(default_factory=list)


def _get(mapping: Any, key: str, default: Any) -> Any:
    return mapping.get(key, default) if isinstance(mapping, Mapping) else default


def _field_text(document: Mapping[str, Any], key: str) -> str:
    """A top-level field as text; ``key: null`` reads as missing, not as ``None``."""
    value = document.get(key)
    return "" if value is None else str(value)


def is_sops_encrypted(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` carries a SOPS metadata block (top-level ``sops`` with ``mac``)."""
    sops = document.get("sops")
    return isinstance(sops, Mapping) and "mac" in sops


def _plain(node: Any) -> Any:
    """ruamel round-trip nodes → plain dicts, lists, str, int, float, bool, None."""
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, datetime.date):
        # An unquoted timestamp (e.g. lastTransitionTime); the models keep times as text.
        return node.isoformat().replace("+00:00", "Z")
    if isinstance(node, str) and not _is_unicode(node):
        raise InvalidInputError(
            "invalid Unicode escape (a lone surrogate such as \\ud800); expected real characters"
        )
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node


def _is_unicode(text: str) -> bool:
    # ruamel's pure parser turns a "\ud800" escape into a lone surrogate; Go's parser refuses it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """1-based line of the deepest node of ``path`` present in the round-trip tree."""
    node, line = document, None
    for part in path:
        in_map = isinstance(node, CommentedMap) and part in node
        in_seq = isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node)
        position = _position(node, part) if in_map or in_seq else None
        if position is None:
            break
        line = position[0] + 1
        node = node[part]
    return line


def _position(node: Any, part: str | int) -> Any:
    # Keys merged in with ``<<`` have no position of their own (``lc.data`` lacks them).
    data = node.lc.data
    return data.get(part) if isinstance(data, dict) else None


def parse_object(
    document: Mapping[str, Any],
    *,
    file: str | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> AnyObject | None:
    """Validate one document; ``None`` for kinds tagpilot does not handle.

    Raises :class:`ManifestError` listing every problem, each with file and line when
    ``document`` comes from ruamel's round-trip loader.
    """
    obj, problems = _check(document, file, default_namespace)
    if problems:
        raise ManifestError(problems)
    return obj


def _check(
    document: Mapping[str, Any], file: str | None, default_namespace: str
) -> tuple[AnyObject | None, list[InvalidInputError]]:
    """The validated object (None for foreign kinds), or the problems found."""
    api_version, kind = _field_text(document, "apiVersion"), _field_text(document, "kind")
    typo = check_kind(api_version, kind, _KNOWN_KINDS)
    if typo is not None:
        line = _line_of(document, (typo.field,)) or _line_of(document, ("kind",))
        location = SourceLocation(file, line, typo.field)
        return None, [InvalidInputError(typo.message, location=location)]
    model = model_for(api_version, kind)
    if model is None:
        return None, []
    try:
        data = _plain(document)
    except InvalidInputError as error:
        return None, [InvalidInputError(error.detail, location=SourceLocation(file))]
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and not metadata.get("namespace"):
        metadata["namespace"] = default_namespace
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        start = _line_of(document, ("kind",))
        problems = problems_from(error, model)
        return None, [_located(problem, document, file, start) for problem in problems]


def _located(
    problem: Problem, document: Any, file: str | None, start: int | None
) -> InvalidInputError:
    line = _line_of(document, problem.path) or start
    location = SourceLocation(file, line, problem.field or None, problem.value)
    shown = f"invalid value {quoted(problem.value)}: " if problem.value is not None else ""
    return InvalidInputError(shown + problem.message, location=location)


_CONSTRUCTOR_ERRORS = (
    ValueError,
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    TypeError,
)


def _documents(text: str, file: str) -> Iterator[tuple[int, Any]]:
    check_yaml_limits(text, file=file)
    yaml = YAML(typ="rt")
    try:
        yield from enumerate(yaml.load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = f"column {mark.column + 1}: " if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise UnreadableManifestError(
            f"YAML syntax error at {column}{problem}", location=SourceLocation(file, line)
        ) from None
    except YAMLError as error:
        raise UnreadableManifestError(
            f"YAML syntax error: {error}", location=SourceLocation(file)
        ) from None
    except RecursionError:
        raise UnreadableManifestError(
            "YAML nested too deeply to load; expected an ordinary manifest",
            location=SourceLocation(file),
        ) from None
    except _CONSTRUCTOR_ERRORS as error:
        # ruamel's constructors raise these for values their tag cannot hold
        # (``!!int xyz``, ``2001-13-45``, a 5000-digit integer, a malformed ``!!omap``).
        raise UnreadableManifestError(
            f"YAML value cannot be read ({error or type(error).__name__}); "
            "expected values that fit their type",
            location=SourceLocation(file),
        ) from None


def _skip_key(document: Any) -> str:
    if not isinstance(document, Mapping):
        return "(not a mapping)"
    return str(document.get("kind") or "(no kind)")


def load_text(
    text: str, *, file: str = "<input>", default_namespace: str = DEFAULT_NAMESPACE
) -> LoadResult:
    """Load every document of one YAML text (see :func:`load_paths`)."""
    result, problems = LoadResult(), []
    try:
        for _, document in _documents(text, file):
            problems += _take(document, file, default_namespace, result)
    except InvalidInputError as error:
        problems.append(error)
    if problems:
        raise ManifestError(problems)
    return result


def _take(
    document: Any, file: str, default_namespace: str, result: LoadResult
) -> list[InvalidInputError]:
    if document is None:
        return []
    source = SourceLocation(
        file, _line_of(document, ("apiVersion",)) or _line_of(document, ("kind",))
    )
    if isinstance(document, Mapping) and is_sops_encrypted(document):
        loaded = LoadedObject(
            None, source, encrypted=True, raw=document, default_namespace=default_namespace
        )
        result.objects.append(loaded)
        return []
    if not isinstance(document, Mapping):
        result.skipped[_skip_key(document)] = result.skipped.get(_skip_key(document), 0) + 1
        return []
    obj, errors = _check(document, file, default_namespace)
    if obj is not None:
        result.objects.append(LoadedObject(obj, source))
    elif not errors:
        result.skipped[_skip_key(document)] = result.skipped.get(_skip_key(document), 0) + 1
    return errors


def find_duplicates(objects: list[LoadedObject]) -> list[InvalidInputError]:
    """Problems for objects defined twice (same kind, namespace and name)."""
    seen: dict[tuple[str, str, str], LoadedObject] = {}
    problems = []
    for loaded in objects:
        identity = (loaded.kind, loaded.namespace, loaded.name)
        if identity in seen:
            first = seen[identity].source
            problems.append(
                InvalidInputError(
                    f"duplicate {loaded.kind} {loaded.namespace}/{loaded.name}: "
                    f"already defined at {first.file}:{first.line}",
                    location=loaded.source,
                )
            )
        else:
            seen[identity] = loaded
    return problems
