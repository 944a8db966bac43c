"""Writing objects back.

``dump_yaml`` keeps what was written, in Flux field order; ``export_objects`` prints what
``flux export`` prints (spec §6.3).
"""

from __future__ import annotations

from pathlib import Path

from tagpilot.adapters.manifests import load_paths
from tagpilot.api.dump import dump_yaml
from tagpilot.api.export import export_objects
from tagpilot.api.loader import load_text

POLICY_WITH_STATUS = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: podinfo
  namespace: flux-system
  annotations:
    reconcile.fluxcd.io/requestedAt: "2024-03-17T22:22:34Z"
  uid: 0b1e-11
spec:
  filterTags:
    pattern: '^v(?P<v>.*)$'
    extract: '$v'
  policy:
    semver:
      range: '>=1.0.0'
  imageRepositoryRef:
    name: podinfo
status:
  latestRef:
    name: ghcr.io/stefanprodan/podinfo
    tag: 5.0.3
  observedGeneration: 1
"""


def test_dump_round_trips_every_loaded_object(testdata: Path) -> None:
    loaded = [
        item.obj for item in load_paths([testdata / "manifests" / "good"]).objects if item.obj
    ]
    again = [item.obj for item in load_text(dump_yaml(loaded)).objects]
    assert again == loaded


def test_dump_writes_flux_field_order_and_keeps_durations_as_written() -> None:
    (loaded,) = load_text(POLICY_WITH_STATUS).objects
    assert loaded.obj is not None
    assert dump_yaml([loaded.obj]) == (
        "---\n"
        "apiVersion: image.toolkit.fluxcd.io/v1\n"
        "kind: ImagePolicy\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "  annotations:\n"
        "    reconcile.fluxcd.io/requestedAt: '2024-03-17T22:22:34Z'\n"
        "  uid: 0b1e-11\n"
        "spec:\n"
        "  imageRepositoryRef:\n"
        "    name: podinfo\n"
        "  policy:\n"
        "    semver:\n"
        "      range: '>=1.0.0'\n"
        "  filterTags:\n"
        "    pattern: ^v(?P<v>.*)$\n"
        "    extract: $v\n"
        "status:\n"
        "  latestRef:\n"
        "    name: ghcr.io/stefanprodan/podinfo\n"
        "    tag: 5.0.3\n"
        "  observedGeneration: 1\n"
    )


def test_dump_adds_no_defaults() -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata:\n  name: a\n  namespace: b\nspec:\n  image: x/y\n  interval: 90s\n"
    )
    (loaded,) = load_text(text).objects
    assert loaded.obj is not None
    assert dump_yaml([loaded.obj]) == "---\n" + text


def test_export_keeps_only_name_namespace_labels_annotations_and_spec() -> None:
    (loaded,) = load_text(POLICY_WITH_STATUS).objects
    assert loaded.obj is not None
    assert export_objects([loaded.obj]) == (
        "---\n"
        "apiVersion: image.toolkit.fluxcd.io/v1\n"
        "kind: ImagePolicy\n"
        "metadata:\n"
        "  annotations:\n"
        '    reconcile.fluxcd.io/requestedAt: "2024-03-17T22:22:34Z"\n'
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  filterTags:\n"
        "    extract: $v\n"
        "    pattern: ^v(?P<v>.*)$\n"
        "  imageRepositoryRef:\n"
        "    name: podinfo\n"
        "  policy:\n"
        "    semver:\n"
        "      range: '>=1.0.0'\n"
    )


def test_export_of_a_live_object_shows_the_defaults_it_carries(testdata: Path) -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata: {name: flux-system, namespace: flux-system}\n"
        "spec: {image: ghcr.io/test/podinfo, interval: 1m, provider: generic,"
        " exclusionList: ['^.*\\.sig$'], suspend: false}\n"
    )
    (loaded,) = load_text(text).objects
    assert loaded.obj is not None
    golden = testdata / "export" / "exported-repository-with-defaults.yaml"
    assert export_objects([loaded.obj]) == golden.read_text()


def test_export_of_several_objects_puts_a_separator_before_each(testdata: Path) -> None:
    objs = [item.obj for item in load_paths([testdata / "manifests" / "good"]).objects if item.obj]
    text = export_objects(objs)
    assert text.count("---\n") == len(objs)
    assert "  interval: 1m0s\n" in text and "  interval: 1m\n" not in text
