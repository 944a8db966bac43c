"""Setter pass over a large repository vs ``grep -rlF '$imagepolicy'`` (the floor).

Generates 20,000 YAML manifests (100 of them marked) in a temporary directory, then
times ``tagpilot.adapters.files.update_tree`` — walk, screen, parse the marked files,
rewrite them — against grep listing the same marked files.  Each timed pass flips the
policy between two tags so that every pass really rewrites 100 files.  Target: within 2x.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import Result, best_of
from tagpilot.adapters.files import update_tree
from tagpilot.core.setters import LIBYAML_PARSER, PolicyTarget

__all__ = ["FILES", "MARKED", "generate_tree", "run"]

FILES = 20_000
MARKED = 100
_DIRECTORIES = 200

_MANIFEST = """\
# {name}: generated for the setters benchmark
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: bench
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: bench
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: main
          image: registry.example.com/bench/app:v1.0.0{marker}
          ports:
            - containerPort: 8080
              name: http
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
"""


def generate_tree(root: Path, *, files: int = FILES, marked: int = MARKED) -> None:
    """Write ``files`` manifests under ``root``, every ``files // marked``-th one marked."""
    stride = files // marked
    for index in range(files):
        directory = root / f"apps/team-{index % _DIRECTORIES:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        marker = ' # {"$imagepolicy": "bench:app"}' if index % stride == 0 else ""
        text = _MANIFEST.format(name=f"app-{index:05d}", marker=marker)
        (directory / f"deployment-{index:05d}.yaml").write_text(text)


def run() -> list[Result]:
    """Time the update pass and the grep floor on one generated tree."""
    root = Path(tempfile.mkdtemp(prefix="tagpilot-bench-setters-"))
    try:
        generate_tree(root)
        tags = itertools.cycle(["v1.0.1", "v1.0.0"])
        changed: list[int] = []

        def update_pass() -> None:
            table = {"bench:app": PolicyTarget("registry.example.com/bench/app", next(tags))}
            changed.append(len(update_tree(root, table).changes.records))

        def grep_pass() -> None:
            subprocess.run(
                ["grep", "-rlF", '"$imagepolicy"', str(root)], check=True, stdout=subprocess.DEVNULL
            )

        grep_pass()  # warm the page cache for both sides
        # Interleave the rounds so that both sides see the same machine load.
        subject_times, baseline_times = [], []
        for _ in range(7):
            subject_times.append(best_of(update_pass, rounds=1))
            baseline_times.append(best_of(grep_pass, rounds=1))
        subject = statistics.median(subject_times)
        baseline = statistics.median(baseline_times)
    finally:
        shutil.rmtree(root)
    assert set(changed) == {MARKED}, changed
    return [
        Result(
            name="setters: update pass, 20k files / 100 marked",
            subject="update_tree",
            subject_value=subject,
            baseline="grep -rlF",
            baseline_value=baseline,
            target="<= 2x",
            note=f"{FILES} files, {MARKED} rewritten per pass, "
            f"libyaml parser {'on' if LIBYAML_PARSER else 'off (pip install ruamel.yaml.clib)'}",
        )
    ]
