"""KServe deployment: an InferenceService whose predictor runs ``assay serve``, and the
Dockerfile (with its ``.dockerignore``) of the image it runs.

The predictor serves the registry *reference* it was given (``sesame@production``), so a
promotion moves the alias and the running server swaps the model in by itself; the version
that reference pointed at when the manifest was written is recorded in its annotations.
Nothing here talks to a cluster: the manifests are plain text to review, commit and apply.

The image holds assay and nothing of the user's project: the model is loaded from the store
when a pod starts (and checked against its sha256), and a model artifact holds only types
assay loads itself, so no pipeline code is needed to serve it. Its build context is the
folder the files are written into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from assay.errors import ConfigError
from assay.metadata import ModelVersionRecord
from assay.registry import parse_ref
from assay.serving.distribution import running_assay

__all__ = [
    "BASE_IMAGE",
    "DOCKERFILE",
    "DOCKERIGNORE",
    "EXTRAS",
    "INFERENCE_SERVICE",
    "STORE_VARIABLES",
    "AssayPackage",
    "KServeOptions",
    "kserve_manifests",
    "kserve_name",
]

INFERENCE_SERVICE = "inferenceservice.yaml"
DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
BASE_IMAGE = "python:3.11-slim"
EXTRAS = "postgres"  # assay's extras installed by default: the store's PostgreSQL driver

API_VERSION = "serving.kserve.io/v1beta1"
# KServe finds the predictor of a custom container by this name, and its protocol in PROTOCOL.
CONTAINER_NAME = "kserve-container"
PROTOCOL = "v2"
STORE_VARIABLES = ("ASSAY_DB_URL", "ASSAY_ARTIFACT_ROOT", "ASSAY_AUDIT_DIR")
KEY_PREFIX = "assay"  # labels and annotations: assay/model, assay/model-version, ...
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
# Ports Knative (KServe's default, serverless mode) keeps for its queue proxy and metrics.
RESERVED_PORTS = frozenset({8012, 8013, 8022, 9090, 9091})

_MAX_NAME = 63
# KServe's rule for InferenceService names: a DNS-1123 label that starts with a letter.
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# A version and a wheel file name as pip takes them, with nothing a shell would expand.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
_WHEEL = re.compile(r"^assay-[A-Za-z0-9.+!_]+(-[A-Za-z0-9._]+){2,3}\.whl$")
# A Kubernetes resource quantity without a sign: 500m, 1, 0.5, 2Gi, 512M, 1e3.
_QUANTITY = re.compile(
    r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$"
)


@dataclass(frozen=True, slots=True)
class KServeOptions:
    """Where and how the InferenceService runs.

    Attributes:
        name: the InferenceService name; see :func:`kserve_name` for the default.
        namespace: the Kubernetes namespace, or None for the one ``kubectl`` uses.
        image: the image built from the Dockerfile.
        replicas: pods kept running (minimum and maximum alike), at least 1.
        cpu: CPU requested and allowed per pod, a Kubernetes quantity (``1``, ``500m``).
        memory: memory requested and allowed per pod (``2Gi``).
        port: the port ``assay serve`` listens on inside the pod.
        store_secret: the Secret holding ``ASSAY_DB_URL``, ``ASSAY_ARTIFACT_ROOT`` and
            ``ASSAY_AUDIT_DIR``.

    Raises:
        ConfigError: a value Kubernetes or KServe would refuse.
    """

    name: str
    namespace: str | None = None
    image: str = "assay:latest"
    replicas: int = 1
    cpu: str = "1"
    memory: str = "2Gi"
    port: int = 8080
    store_secret: str = "assay-store"  # noqa: S105 - a Secret's name, not a password

    def __post_init__(self) -> None:
        if len(self.name) > _MAX_NAME or not _NAME.match(self.name):
            raise ConfigError(
                f"invalid InferenceService name {self.name!r}",
                hint="use at most 63 lower-case letters, digits and '-', starting with a "
                "letter and ending with a letter or digit, such as sesame-prod",
            )
        if self.namespace is not None and not _NAMESPACE.match(self.namespace):
            raise ConfigError(
                f"invalid namespace {self.namespace!r}",
                hint="use at most 63 lower-case letters, digits and '-'",
            )
        if not self.image or any(c.isspace() for c in self.image):
            raise ConfigError(
                f"invalid image {self.image!r}", hint="name one image, such as ghcr.io/acme/assay:1"
            )
        if self.replicas < 1:
            raise ConfigError(f"invalid replicas {self.replicas}", hint="run at least 1 replica")
        for flag, value in (("cpu", self.cpu), ("memory", self.memory)):
            if not _QUANTITY.match(value):
                raise ConfigError(
                    f"invalid {flag} {value!r}: not a Kubernetes quantity",
                    hint="for example --cpu 500m or --cpu 2, --memory 512Mi or --memory 2Gi",
                )
        if not 1 <= self.port <= 65535 or self.port in RESERVED_PORTS:
            raise ConfigError(
                f"invalid port {self.port}",
                hint="use 1-65535 but not 8012, 8013, 8022, 9090 or 9091, which Knative keeps",
            )
        if len(self.store_secret) > 253 or not _SUBDOMAIN.match(self.store_secret):
            raise ConfigError(
                f"invalid Secret name {self.store_secret!r}",
                hint="use lower-case letters, digits, '-' and '.'",
            )


@dataclass(frozen=True, slots=True)
class AssayPackage:
    """How assay gets into the image.

    Attributes:
        version: the assay version installed, pinned; the running one by default, so that the
            pods serve with the code that wrote the manifest.
        wheel: the file name of an assay wheel in the build context, installed instead of
            ``assay==version`` from the package index (for a version that is not on it).

    Raises:
        ConfigError: a version or wheel name pip could not install.
    """

    version: str
    wheel: str | None = None

    def __post_init__(self) -> None:
        if not _VERSION.match(self.version):
            raise ConfigError(
                f"invalid assay version {self.version!r}", hint="give a version such as 0.1.0"
            )
        if self.wheel is not None and not _WHEEL.match(self.wheel):
            raise ConfigError(
                f"invalid assay wheel name {self.wheel!r}",
                hint="name a wheel file beside the Dockerfile, such as "
                "assay-0.1.0-py3-none-any.whl",
            )


def kserve_name(model_name: str) -> str:
    """The default InferenceService name of a model: lower case, other characters as '-'.

    Raises:
        ConfigError: no valid name can be made (``--name`` then gives one).
    """
    name = re.sub(r"[^a-z0-9]+", "-", model_name.lower())
    name = re.sub(r"^[^a-z]+", "", name)[:_MAX_NAME].rstrip("-")
    if not name:
        raise ConfigError(
            f"cannot make an InferenceService name from model {model_name!r}",
            hint="give one with --name, such as --name my-model",
        )
    return name


def kserve_manifests(
    version: ModelVersionRecord,
    ref: str,
    options: KServeOptions,
    package: AssayPackage | None = None,
) -> dict[str, str]:
    """The files deploying ``ref`` (which resolved to ``version``) on KServe, name -> text.

    ``inferenceservice.yaml`` holds the InferenceService, ``Dockerfile`` the image that runs
    ``assay serve`` and ``.dockerignore`` what keeps everything else out of its build context.
    ``package`` says how assay is installed: by default the running version from the index.

    Raises:
        ConfigError: ``ref`` names another model than ``version``.
    """
    parsed = parse_ref(ref)
    if parsed.name != version.name:
        raise ConfigError(
            f"reference {ref!r} is not a reference to model {version.name!r}",
            hint="pass the reference the version was resolved from",
        )
    served = str(parsed)  # sesame -> sesame@latest: what is served, spelled out
    header = (
        f"# Written by `assay deploy kserve {served}`; {served} was "
        f"{version.name}@{version.version} (sha256:{version.digest}).\n"
        "# The pods serve the reference, not the version: promoting another version to it\n"
        "# swaps the model in without redeploying.\n"
    )
    text = yaml.safe_dump(inference_service(version, served, options), sort_keys=False)
    if package is None:
        package = AssayPackage(running_assay().version)
    return {
        INFERENCE_SERVICE: header + text,
        DOCKERFILE: dockerfile(served, options, package),
        DOCKERIGNORE: dockerignore(package),
    }


def inference_service(
    version: ModelVersionRecord, served: str, options: KServeOptions
) -> dict[str, Any]:
    """The InferenceService as plain data, in the order ``kubectl`` users expect."""
    metadata: dict[str, Any] = {"name": options.name}
    if options.namespace is not None:
        metadata["namespace"] = options.namespace
    labels = {
        "app.kubernetes.io/name": options.name,
        "app.kubernetes.io/managed-by": "assay",
    }
    if len(version.name) <= _MAX_NAME and _LABEL_VALUE.match(version.name):
        labels[f"{KEY_PREFIX}/model"] = version.name
    labels[f"{KEY_PREFIX}/model-version"] = str(version.version)
    metadata["labels"] = labels
    metadata["annotations"] = {
        f"{KEY_PREFIX}/model": version.name,
        f"{KEY_PREFIX}/model-version": str(version.version),
        f"{KEY_PREFIX}/model-digest": f"sha256:{version.digest}",
        f"{KEY_PREFIX}/model-ref": served,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": {
            "predictor": {
                "minReplicas": options.replicas,
                "maxReplicas": options.replicas,
                "containers": [container(served, options)],
            }
        },
    }


def container(served: str, options: KServeOptions) -> dict[str, Any]:
    """The predictor's container (a Kubernetes core/v1 Container) running ``assay serve``."""
    resources = {"cpu": options.cpu, "memory": options.memory}
    env: list[dict[str, Any]] = [{"name": "PROTOCOL", "value": PROTOCOL}]
    env += [
        {
            "name": variable,
            "valueFrom": {"secretKeyRef": {"name": options.store_secret, "key": variable}},
        }
        for variable in STORE_VARIABLES
    ]
    return {
        "name": CONTAINER_NAME,
        "image": options.image,
        "command": ["assay", "serve"],
        # Inside a pod the server must listen on every interface, not on loopback.
        "args": [served, "--host", "0.0.0.0", "--port", str(options.port)],  # noqa: S104
        "ports": [{"name": "http1", "containerPort": options.port, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "readinessProbe": _probe(READY_PATH, options.port, delay=5, period=10),
        "livenessProbe": _probe(LIVE_PATH, options.port, delay=15, period=20),
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def _probe(path: str, port: int, *, delay: int, period: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "failureThreshold": 3,
    }


def dockerfile(served: str, options: KServeOptions, package: AssayPackage) -> str:
    """The image: the base image, assay at the pinned version (or its wheel), a non-root user.

    Nothing of the build context is copied but the wheel named in ``package``.
    """
    if package.wheel is None:
        source = "assay from the package index, at the version that wrote this file"
        install = f'RUN pip install "assay[${{EXTRAS}}]=={package.version}"\n'
    else:
        source = f"assay from {package.wheel}, beside this file"
        install = (
            f"COPY {package.wheel} /tmp/\n"
            f'RUN pip install "/tmp/{package.wheel}[${{EXTRAS}}]" && rm /tmp/{package.wheel}\n'
        )
    return f"""\
# The image of `assay serve {served}`, written by `assay deploy kserve`.
# It installs {source}.
# It holds nothing of your project: each pod loads the model from the store when it starts.
# The build context is this file's folder:
#   docker build -t {options.image} path/to/this/folder
# EXTRAS names assay's optional dependencies for the store: postgres, s3, azure
# (docker build --build-arg EXTRAS=postgres,s3 ...).
FROM {BASE_IMAGE}
ARG EXTRAS={EXTRAS}
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
{install}RUN useradd --create-home --uid 10001 --user-group assay
# A numeric user, so that Kubernetes can check runAsNonRoot.
USER 10001:10001
WORKDIR /home/assay
EXPOSE {options.port}
ENTRYPOINT ["assay", "serve"]
"""


def dockerignore(package: AssayPackage) -> str:
    """What the build context sends: the Dockerfile (and the wheel), nothing else."""
    keep = "!Dockerfile\n" + (f"!{package.wheel}\n" if package.wheel is not None else "")
    return f"""\
# Written by `assay deploy kserve`. The image needs only what its Dockerfile copies, so
# everything else stays out of the build context: above all a local store (.assay/), git
# history (.git/), virtual environments, caches and data. The model is not copied either:
# each pod loads it from the store. Add a `!PATH` line for a file you COPY yourself.
*
{keep}"""
