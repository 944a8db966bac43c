"""Seed texts the fuzzers mutate: valid Flux objects and marked workload manifests."""

from __future__ import annotations

__all__ = ["MANIFESTS", "MARKED", "TEMPLATES"]

IMAGE_OBJECTS = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: app
  namespace: apps
spec:
  image: ghcr.io/acme/app
  interval: 1m
  secretRef:
    name: registry
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: app
  namespace: apps
spec:
  imageRepositoryRef:
    name: app
  filterTags:
    pattern: '^main-(?P<ts>[0-9]+)$'
    extract: '$ts'
  policy:
    semver:
      range: ">=1.0.0 <2.0.0"
"""

AUTOMATION = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: app
  namespace: apps
spec:
  interval: 5m
  sourceRef:
    kind: GitRepository
    name: app
  git:
    checkout:
      ref:
        branch: main
    commit:
      author: {name: bot, email: bot@example.com}
      messageTemplate: |
        {{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}}
        {{end}}
    push:
      branch: main
  update:
    strategy: Setters
    path: ./deploy
"""

SOURCES = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: apps}
spec:
  url: ssh://git@example.com/acme/app.git
  interval: 1m
  ref: {branch: main}
  secretRef: {name: git}
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: hook, namespace: apps}
spec:
  type: github
  events: [ping, push]
  resources:
    - kind: ImageRepository
      name: app
  secretRef: {name: hook-token}
---
apiVersion: v1
kind: Secret
metadata: {name: hook-token, namespace: apps}
stringData:
  token: not-a-real-token
"""

ANCHORED = """\
base: &base
  interval: 1m
  image: ghcr.io/acme/app
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {name: anchored, namespace: apps}
spec:
  <<: *base
"""

MANIFESTS = [IMAGE_OBJECTS, AUTOMATION, SOURCES, ANCHORED]
"""Valid multi-document manifests tagpilot loads."""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:1.0.0 # {"$imagepolicy": "apps:app"}
        - name: sidecar
          image: 'ghcr.io/acme/side:1.0' # {"$imagepolicy": "apps:side:name"}
          args: ["--tag", "1.0"] # {"$imagepolicy": "apps:app:tag"}
"""

VALUES = """\
image:
  repository: ghcr.io/acme/app # {"$imagepolicy": "apps:app:name"}
  tag: "1.0.0" # {"$imagepolicy": "apps:app:tag"}
  digest: &d sha256:00 # {"$imagepolicy": "apps:app:digest"}
again: *d
block: |- # {"$imagepolicy": "apps:app"}
  ghcr.io/acme/app:1.0.0
images:
  # {"$imagepolicy": "apps:app"}
  - ghcr.io/acme/app:1.0.0
"""

KUSTOMIZATION = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\r\n"
    "kind: Kustomization\r\n"
    "images:\r\n"
    "  - name: app\r\n"
    '    newTag: 1.0.0 # {"$imagepolicy": "apps:app:tag"}\r\n'
)

MARKED = [DEPLOYMENT, VALUES, KUSTOMIZATION]
"""Files holding setter markers, in the shapes Flux users write them."""

TEMPLATES = [
    "Update from image update automation",
    "{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}} [skip ci]",
    "{{ range $file, $changes := .Changed.FileChanges -}}\n{{ $file }}:\n"
    "{{ range $changes }}  {{ .Setter }}: {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}{{ end }}",
    '{{- $x := "a" -}}{{ if eq .AutomationObject.Name "app" }}{{ $x | upper }}'
    "{{ else }}no{{ end }}",
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .Values.env }}{{ printf "%05d" 42 }}',
    "{{ range $i, $o := .Changed.Objects }}{{ $i.Kind }}/{{ $i.Name }} {{ len $o }}{{ end }}",
]
"""Commit message templates in the styles Flux documents."""
