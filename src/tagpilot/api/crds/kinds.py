"""One table per kind: what the CRD says beyond the models' fields.

The models (:mod:`tagpilot.api.image`, :mod:`~tagpilot.api.automation`,
:mod:`~tagpilot.api.source`, :mod:`~tagpilot.api.kustomization`) are the source of truth
for field names, types, enums, patterns, bounds and defaults.  The entries here carry the
rest: Flux's names, short names, categories, ``kubectl get`` columns, CEL rules, and
patches where the API server must check *less* than tagpilot does.

Why the API server may check less: the models are strict on purpose (a bad manifest is
reported at load time, with file and line), but the CRDs are shared with Flux's own
controllers and with every object already stored in a cluster.  A CRD stricter than
Flux's would refuse objects Flux accepts (and the controller reports as Stalled), so
``required`` lists and lengths follow Flux's CRDs, and tagpilot's reconcilers report the
rest through conditions, as Flux does.

Only the storage version ``v1`` is served: Flux's current image, source and kustomize
CRDs serve nothing else (v1beta1/v1beta2 manifests are still *read* by the loader).
"""

from __future__ import annotations

from tagpilot.api.automation import ImageUpdateAutomationSpec, ImageUpdateAutomationStatus
from tagpilot.api.crds.metav1 import ARTIFACT, CONDITION, DATE_TIME, INT64, LABEL_SELECTOR
from tagpilot.api.crds.table import (
    AGE_COLUMN,
    READY_COLUMNS,
    CelRule,
    CrdKind,
    Patch,
    PrinterColumn,
)
from tagpilot.api.image import (
    ImagePolicySpec,
    ImagePolicyStatus,
    ImageRepositorySpec,
    ImageRepositoryStatus,
)
from tagpilot.api.kustomization import KustomizationSpec, KustomizationStatus
from tagpilot.api.source import GitRepositorySpec, GitRepositoryStatus

__all__ = [
    "CRD_KINDS",
    "GIT_REPOSITORY_CRD",
    "IMAGE_GROUP",
    "IMAGE_POLICY_CRD",
    "IMAGE_REPOSITORY_CRD",
    "IMAGE_UPDATE_CRD",
    "KUSTOMIZATION_CRD",
    "KUSTOMIZE_GROUP",
    "SOURCE_GROUP",
]

IMAGE_GROUP = "image.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
_IMAGE_CATEGORIES = ("all", "fluxcd", "fluxcd-images")

# -- patches every kind shares --------------------------------------------------------------

_REF_NAME_ANY_LENGTH = "Flux declares object references' names without a minimum length"


def _status_patches(*time_fields: str) -> tuple[Patch, ...]:
    """Status patches every kind needs, plus ``date-time`` on the given status fields."""
    return (
        Patch(
            "status",
            "Flux defaults a new object's status to observedGeneration -1 (never reconciled)",
            set={"default": {"observedGeneration": -1}},
        ),
        Patch("status.observedGeneration", "a Go int64", set=dict(INT64)),
        Patch(
            "status.conditions[]",
            "the API server checks metav1.Condition's own rules; the model reads leniently",
            set=CONDITION,
        ),
        *(Patch(f"status.{name}", "a metav1.Time", set=dict(DATE_TIME)) for name in time_fields),
    )


def _beta_status(*names: str) -> tuple[Patch, ...]:
    """Remove status fields only old API versions had (the model reads them from old files)."""
    why = "an older API version's status field; Flux's v1 CRD has no place for it"
    return tuple(Patch(f"status.{name}", why, remove=True) for name in names)


_OPEN = ("x-kubernetes-preserve-unknown-fields",)


def _ref_names(*paths: str) -> tuple[Patch, ...]:
    return tuple(Patch(f"{path}.name", _REF_NAME_ANY_LENGTH, drop=("minLength",)) for path in paths)


# -- ImageRepository ------------------------------------------------------------------------

IMAGE_REPOSITORY_CRD = CrdKind(
    group=IMAGE_GROUP,
    kind="ImageRepository",
    plural="imagerepositories",
    spec_model=ImageRepositorySpec,
    status_model=ImageRepositoryStatus,
    short_names=("imgrepo", "imagerepo"),
    categories=_IMAGE_CATEGORIES,
    columns=(
        PrinterColumn("Image", ".spec.image"),
        PrinterColumn("Tags", ".status.lastScanResult.tagCount"),
        *READY_COLUMNS,
        PrinterColumn("Last scan", ".status.lastScanResult.scanTime", priority=1),
        AGE_COLUMN,
    ),
    patches=(
        Patch("spec.image", "checked by the model and reported as Stalled", drop=("minLength",)),
        *_ref_names("spec.secretRef", "spec.proxySecretRef", "spec.certSecretRef"),
        *_status_patches(),
        Patch("status.lastScanResult.scanTime", "a metav1.Time", set=dict(DATE_TIME)),
    ),
)

# -- ImagePolicy ----------------------------------------------------------------------------

IMAGE_POLICY_CRD = CrdKind(
    group=IMAGE_GROUP,
    kind="ImagePolicy",
    plural="imagepolicies",
    spec_model=ImagePolicySpec,
    status_model=ImagePolicyStatus,
    short_names=("imgpol", "imagepol"),
    categories=_IMAGE_CATEGORIES,
    columns=(
        PrinterColumn("Image", ".status.latestRef.name"),
        PrinterColumn("Tag", ".status.latestRef.tag"),
        *READY_COLUMNS,
        AGE_COLUMN,
    ),
    patches=(
        *_ref_names("spec.imageRepositoryRef"),
        Patch(
            "spec.policy.semver.range",
            "Flux checks the range at reconcile time",
            drop=("minLength",),
        ),
        *_status_patches(),
        *_beta_status("latestImage", "observedPreviousImage"),
    ),
    rules=(
        # The model checks the same pair of rules (ImagePolicySpec._interval_rules).
        CelRule(
            "spec",
            "!has(self.interval) || (has(self.digestReflectionPolicy) "
            "&& self.digestReflectionPolicy == 'Always')",
            "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
        ),
        CelRule(
            "spec",
            "has(self.interval) || !has(self.digestReflectionPolicy) "
            "|| self.digestReflectionPolicy != 'Always'",
            "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
        ),
    ),
)

# -- ImageUpdateAutomation ------------------------------------------------------------------

IMAGE_UPDATE_CRD = CrdKind(
    group=IMAGE_GROUP,
    kind="ImageUpdateAutomation",
    plural="imageupdateautomations",
    spec_model=ImageUpdateAutomationSpec,
    status_model=ImageUpdateAutomationStatus,
    short_names=("iua", "imgupd", "imgauto"),
    categories=_IMAGE_CATEGORIES,
    columns=(
        *READY_COLUMNS,
        PrinterColumn("Last run", ".status.lastAutomationRunTime", priority=1),
        AGE_COLUMN,
    ),
    patches=(
        *_ref_names(
            "spec.sourceRef",
            "spec.git.commit.signingKey.secretRef",
        ),
        Patch(
            "spec.git.commit.author.email", "Flux checks it when committing", drop=("minLength",)
        ),
        Patch(
            "spec.git.commit.signingKey.type",
            "the model reads a missing type as gpg; Flux's CRD writes no default into objects",
            drop=("default",),
        ),
        Patch(
            "spec.sourceRef",
            "Flux's CRD requires kind (and defaults it); the model only defaults it",
            set={"required": ["kind", "name"]},
        ),
        Patch("spec.policySelector", "a metav1.LabelSelector", set=LABEL_SELECTOR),
        *_status_patches("lastAutomationRunTime", "lastPushTime"),
    ),
)

# -- GitRepository --------------------------------------------------------------------------

GIT_REPOSITORY_CRD = CrdKind(
    group=SOURCE_GROUP,
    kind="GitRepository",
    plural="gitrepositories",
    spec_model=GitRepositorySpec,
    status_model=GitRepositoryStatus,
    short_names=("gitrepo",),
    categories=("all", "fluxcd", "fluxcd-sources"),
    columns=(
        PrinterColumn("URL", ".spec.url"),
        AGE_COLUMN,
        *READY_COLUMNS,
    ),
    patches=(
        *_ref_names(
            "spec.secretRef",
            "spec.proxySecretRef",
            "spec.verify.secretRef",
            "spec.include[].repository",
            "status.observedInclude[].repository",
        ),
        *(
            Patch(
                f"spec.{name}",
                "only v1beta1/v1beta2 had it; the loader refuses it in v1",
                remove=True,
            )
            for name in ("accessFrom", "gitImplementation")
        ),
        Patch(
            "spec.provider",
            "the model reads a missing provider as generic; Flux's CRD writes no default",
            drop=("default",),
        ),
        *_status_patches(),
        *_beta_status("url"),
        Patch("status.artifact", "a Flux Artifact (see ARTIFACT)", set=ARTIFACT),
        Patch("status.includedArtifacts[]", "a Flux Artifact", set=ARTIFACT, drop=_OPEN),
    ),
    rules=(
        CelRule(
            "spec",
            "!has(self.serviceAccountName) || (has(self.provider) "
            "&& (self.provider == 'azure' || self.provider == 'aws'))",
            "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        ),
    ),
)

# -- Kustomization --------------------------------------------------------------------------

_FLUX_DEFAULT_FALSE = (
    "Flux's CRD declares this default false (the schema walk writes no false default)"
)

KUSTOMIZATION_CRD = CrdKind(
    group=KUSTOMIZE_GROUP,
    kind="Kustomization",
    plural="kustomizations",
    spec_model=KustomizationSpec,
    status_model=KustomizationStatus,
    short_names=("ks",),
    categories=("all", "fluxcd", "fluxcd-appliers"),
    columns=(AGE_COLUMN, *READY_COLUMNS),
    patches=(
        *_ref_names(
            "spec.sourceRef",
            "spec.dependsOn[]",
            "spec.decryption.secretRef",
            "spec.kubeConfig.secretRef",
            "spec.kubeConfig.configMapRef",
            "spec.healthChecks[]",
            "spec.images[]",
        ),
        Patch("spec.healthChecks[].kind", _REF_NAME_ANY_LENGTH, drop=("minLength",)),
        *(
            Patch(
                f"spec.healthCheckExprs[].{name}",
                "Flux checks the expressions when it compiles them",
                drop=("minLength",),
            )
            for name in ("apiVersion", "current")
        ),
        Patch(
            "spec.healthCheckExprs[].kind",
            "Flux's CRD leaves kind optional; the model requires it (a check without a kind "
            "matches nothing)",
            drop=("minLength",),
        ),
        Patch(
            "spec.healthCheckExprs[]",
            "Flux's CRD requires only apiVersion and current",
            set={"required": ["apiVersion", "current"]},
        ),
        Patch(
            "spec.kubeConfig.configMapRef.key",
            "Flux's configMapRef is a plain {name}; the model shares the Secret reference type",
            remove=True,
        ),
        Patch(
            "spec.kubeConfig.configMapRef",
            "the shared model's docstring speaks of a Secret",
            set={"description": "A ConfigMap holding a kubeconfig."},
        ),
        Patch(
            "spec.driftIgnoreRules",
            "not a field of Flux's v1 CRD (Flux calls the rules spec.ignore); the model reads it",
            remove=True,
        ),
        Patch("spec.force", _FLUX_DEFAULT_FALSE, set={"default": False}),
        Patch(
            "spec.postBuild.substituteFrom[].optional", _FLUX_DEFAULT_FALSE, set={"default": False}
        ),
        *_status_patches(),
        Patch("status.history[].firstReconciled", "a metav1.Time", set=dict(DATE_TIME)),
        Patch("status.history[].lastReconciled", "a metav1.Time", set=dict(DATE_TIME)),
        Patch("status.history[].totalReconciliations", "a Go int64", set=dict(INT64)),
    ),
    rules=(
        CelRule(
            "spec.kubeConfig",
            "has(self.configMapRef) != has(self.secretRef)",
            "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef "
            "must be specified",
        ),
    ),
)

CRD_KINDS: tuple[CrdKind, ...] = (
    IMAGE_REPOSITORY_CRD,
    IMAGE_POLICY_CRD,
    IMAGE_UPDATE_CRD,
    GIT_REPOSITORY_CRD,
    KUSTOMIZATION_CRD,
)
"""Every kind tagpilot has a CRD for; the image kinds first."""
