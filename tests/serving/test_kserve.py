"""KServe manifests, validated offline against KServe's own schema: no cluster, no Docker.

The schema in data/ is generated from the KServe Python SDK's models and the Kubernetes
client's (see data/make_kserve_schema.py); every object in it is closed, as with the API
server's strict field validation, so a misspelt or misplaced field fails here.
"""

from __future__ import annotations

import copy
import fnmatch
import importlib.metadata
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from assay import Settings
from assay.errors import ConfigError
from assay.metadata import ModelVersionRecord
from assay.registry import resolve
from assay.serving.kserve import (
    DOCKERFILE,
    DOCKERIGNORE,
    INFERENCE_SERVICE,
    AssayPackage,
    KServeOptions,
    kserve_manifests,
    kserve_name,
)
from assay.workspace import Workspace
from tests.governed import promoted_toy

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "kserve-inferenceservice.schema.json").read_text()
)
ISVC = Draft202012Validator(SCHEMA)
# Kubernetes' core/v1 Container, as the predictor's `containers` items are.
CONTAINER = Draft202012Validator({"$ref": "#/$defs/V1Container", "$defs": SCHEMA["$defs"]})


def problems(validator: Draft202012Validator, doc: Any) -> list[str]:
    """Every schema violation, as 'path: message'."""
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in validator.iter_errors(doc)
    ]


def version(name: str = "sesame", number: int = 3) -> ModelVersionRecord:
    return ModelVersionRecord(
        name=name,
        version=number,
        digest="ab" * 32,
        codec="skops",
        run_id="r" * 32,
        execution_id="e" * 32,
        created_at=0.0,
        created_by="alice",
    )


@pytest.fixture
def toy_store(settings: Settings, tmp_path: Path) -> Iterator[Workspace]:
    ws = promoted_toy(settings, tmp_path / "toy")
    yield ws
    ws.close()


@pytest.fixture
def isvc() -> dict[str, Any]:
    files = kserve_manifests(version(), "sesame@production", KServeOptions(name="sesame"))
    doc: dict[str, Any] = yaml.safe_load(files[INFERENCE_SERVICE])
    return doc


def test_the_schema_is_a_schema_of_kserve_and_kubernetes_types() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert "KServe Python SDK" in SCHEMA["$comment"] and "Apache-2.0" in SCHEMA["$comment"]
    predictor = SCHEMA["$defs"]["V1beta1PredictorSpec"]
    assert predictor["properties"]["containers"]["items"] == {"$ref": "#/$defs/V1Container"}
    assert SCHEMA["$defs"]["V1Container"]["required"] == ["name"]


def test_a_promoted_model_gets_a_valid_inference_service(toy_store: Workspace) -> None:
    record = resolve(toy_store, "toy@production")
    files = kserve_manifests(record, "toy@production", KServeOptions(name=kserve_name("toy")))
    assert set(files) == {INFERENCE_SERVICE, DOCKERFILE, DOCKERIGNORE}
    doc = yaml.safe_load(files[INFERENCE_SERVICE])
    assert problems(ISVC, doc) == []
    assert doc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert doc["kind"] == "InferenceService"
    assert doc["metadata"]["name"] == "toy"
    assert doc["metadata"]["annotations"] == {
        "assay/model": "toy",
        "assay/model-version": "1",
        "assay/model-digest": f"sha256:{record.digest}",
        "assay/model-ref": "toy@production",
    }
    assert doc["metadata"]["labels"]["assay/model-version"] == "1"
    [container] = doc["spec"]["predictor"]["containers"]
    assert problems(CONTAINER, container) == []
    # The alias is served, so a promotion swaps the model in; the version is only recorded.
    assert container["command"] + container["args"] == [
        "assay",
        "serve",
        "toy@production",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
    ]
    assert files[INFERENCE_SERVICE].startswith("# Written by `assay deploy kserve toy@production`")


def test_the_container_speaks_v2_is_probed_and_reads_the_store_from_a_secret(
    isvc: dict[str, Any],
) -> None:
    predictor = isvc["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 1
    [container] = predictor["containers"]
    assert container["name"] == "kserve-container"  # how KServe finds a custom predictor
    env = {e["name"]: e for e in container["env"]}
    assert env["PROTOCOL"] == {"name": "PROTOCOL", "value": "v2"}
    for variable in ("ASSAY_DB_URL", "ASSAY_ARTIFACT_ROOT", "ASSAY_AUDIT_DIR"):
        assert env[variable]["valueFrom"] == {
            "secretKeyRef": {"name": "assay-store", "key": variable}
        }
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": 8080}
    assert container["ports"] == [{"name": "http1", "containerPort": 8080, "protocol": "TCP"}]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    assert container["securityContext"]["runAsNonRoot"] is True


def test_options_reach_the_manifest() -> None:
    options = KServeOptions(
        name="sesame-prod",
        namespace="ml",
        image="registry.example/assay:1.2",
        replicas=3,
        cpu="500m",
        memory="1.5Gi",
        port=9000,
        store_secret="prod.assay-store",
    )
    files = kserve_manifests(version(), "sesame", options)
    doc = yaml.safe_load(files[INFERENCE_SERVICE])
    assert problems(ISVC, doc) == []
    assert doc["metadata"]["namespace"] == "ml"
    predictor = doc["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 3
    [container] = predictor["containers"]
    assert container["image"] == "registry.example/assay:1.2"
    assert container["args"] == ["sesame@latest", "--host", "0.0.0.0", "--port", "9000"]
    assert container["livenessProbe"]["httpGet"]["port"] == 9000
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "1.5Gi"}
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"][1:]} == {
        "prod.assay-store"
    }
    assert "EXPOSE 9000" in files[DOCKERFILE].splitlines()


def test_a_model_name_that_is_no_label_value_stays_in_the_annotations() -> None:
    files = kserve_manifests(version("sesame_"), "sesame_@2", KServeOptions(name="sesame"))
    doc = yaml.safe_load(files[INFERENCE_SERVICE])
    assert problems(ISVC, doc) == []
    assert "assay/model" not in doc["metadata"]["labels"]
    assert doc["metadata"]["annotations"]["assay/model"] == "sesame_"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


C = "spec.predictor.containers.0"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (_set("spec.predictor.replicas", 2), "'replicas' was unexpected"),
        (_set("spec.predictor.minReplicas", "2"), "'2' is not of type 'integer'"),
        (_set("spec.predictor.protocolVersion", "v2"), "'protocolVersion' was unexpected"),
        (_set("spec.predictors", {}), "'predictors' was unexpected"),
        (_drop("spec.predictor"), "'predictor' is a required property"),
        (_set("metadata.labels.version", 1), "1 is not of type 'string'"),
        (_set(f"{C}.entrypoint", ["assay"]), "'entrypoint' was unexpected"),
        (_set(f"{C}.args", "toy@production"), "is not of type 'array'"),
        (_drop(f"{C}.name"), "'name' is a required property"),
        (_set(f"{C}.readinessProbe.httpGet.url", "/v2/health/ready"), "'url' was unexpected"),
        (_drop(f"{C}.livenessProbe.httpGet.port"), "'port' is a required property"),
        (_set(f"{C}.resources.limits.cpu", 1), "1 is not of type 'string'"),
        (_set(f"{C}.env.1.valueFrom.secretRef", {}), "'secretRef' was unexpected"),
        (_set(f"{C}.ports.0.port", 8080), "'port' was unexpected"),
        (_set(f"{C}.securityContext.runAsNonRoot", "yes"), "'yes' is not of type 'boolean'"),
    ],
)
def test_a_wrong_or_unknown_field_fails_validation(
    isvc: dict[str, Any], mutate: Callable[[dict[str, Any]], None], needle: str
) -> None:
    broken = copy.deepcopy(isvc)
    mutate(broken)
    found = problems(ISVC, broken)
    assert any(needle in p for p in found), found
    if all(p.startswith("spec/predictor/containers/0") for p in found):
        # The container alone fails against Kubernetes' core/v1 Container just the same.
        [container] = broken["spec"]["predictor"]["containers"]
        assert any(needle in p for p in problems(CONTAINER, container))


def test_the_dockerfile_runs_assay_serve_as_a_non_root_user() -> None:
    text = kserve_manifests(
        version(), "sesame@production", KServeOptions(name="sesame"), AssayPackage("1.2.3")
    )[DOCKERFILE]
    instructions = dockerfile_instructions(text)
    known = {"FROM", "WORKDIR", "COPY", "RUN", "ARG", "ENV", "USER", "EXPOSE", "ENTRYPOINT"}
    assert {keyword for keyword, _ in instructions} <= known
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert [k for k, _ in instructions].count("FROM") == 1
    users = [arg for keyword, arg in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0].isdigit()  # numeric, so runAsNonRoot can be checked
    assert ("EXPOSE", "8080") in instructions
    entrypoints = [arg for keyword, arg in instructions if keyword == "ENTRYPOINT"]
    assert [json.loads(e) for e in entrypoints] == [["assay", "serve"]]


def test_the_image_installs_the_pinned_assay_and_copies_nothing_of_the_project() -> None:
    files = kserve_manifests(
        version(), "sesame@production", KServeOptions(name="sesame"), AssayPackage("1.2.3")
    )
    instructions = dockerfile_instructions(files[DOCKERFILE])
    assert [arg for keyword, arg in instructions if keyword in {"COPY", "ADD"}] == []
    assert not any("pip wheel" in arg for _, arg in instructions)
    assert ("ARG", "EXTRAS=postgres") in instructions
    assert ("RUN", 'pip install "assay[${EXTRAS}]==1.2.3"') in instructions
    for path in STORE_AND_PROJECT:
        assert ignored(files[DOCKERIGNORE], path), path
    assert not ignored(files[DOCKERIGNORE], "Dockerfile")


def test_a_wheel_in_the_build_context_is_installed_instead() -> None:
    wheel = "assay-1.2.3-py3-none-any.whl"
    files = kserve_manifests(
        version(), "sesame@3", KServeOptions(name="sesame"), AssayPackage("1.2.3", wheel)
    )
    instructions = dockerfile_instructions(files[DOCKERFILE])
    assert [arg for keyword, arg in instructions if keyword in {"COPY", "ADD"}] == [
        f"{wheel} /tmp/"
    ]
    assert ("RUN", f'pip install "/tmp/{wheel}[${{EXTRAS}}]" && rm /tmp/{wheel}') in instructions
    assert not any("==" in arg for keyword, arg in instructions if keyword == "RUN")
    assert not ignored(files[DOCKERIGNORE], wheel)
    assert ignored(files[DOCKERIGNORE], "assay-0.9.0-py3-none-any.whl")  # an older one stays out
    for path in STORE_AND_PROJECT:
        assert ignored(files[DOCKERIGNORE], path), path


def test_by_default_the_running_assay_version_is_pinned() -> None:
    files = kserve_manifests(version(), "sesame@production", KServeOptions(name="sesame"))
    pinned = f'RUN pip install "assay[${{EXTRAS}}]=={importlib.metadata.version("assay")}"'
    assert pinned in files[DOCKERFILE].splitlines()


@pytest.mark.parametrize(
    ("package", "needle"),
    [
        ({"version": ""}, "invalid assay version ''"),
        ({"version": "1.0; rm -rf /"}, "invalid assay version"),
        ({"version": "1.0", "wheel": "../assay-1.0-py3-none-any.whl"}, "invalid assay wheel"),
        ({"version": "1.0", "wheel": "other-1.0-py3-none-any.whl"}, "invalid assay wheel"),
        ({"version": "1.0", "wheel": "assay-1.0.tar.gz"}, "invalid assay wheel"),
    ],
)
def test_an_uninstallable_package_is_refused(package: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        AssayPackage(**package)
    assert needle in info.value.message and info.value.hint


# What a build context must not send: the store, history, environments, caches, project code
# and data (the model comes from the store, not from the build context).
STORE_AND_PROJECT = (
    ".assay/assay.db",
    ".assay/artifacts/ab/cd",
    ".git/HEAD",
    ".venv/bin/python",
    "venv/lib/site.py",
    "__pycache__/x.pyc",
    ".pytest_cache/v",
    "pipeline.py",
    "toy/pipeline.py",
    "data/phrases.csv",
    "inferenceservice.yaml",
)


def ignored(dockerignore: str, path: str) -> bool:
    """Whether Docker leaves ``path`` out of the build context, by ``dockerignore``'s rules.

    The last matching pattern decides, ``!`` lets a path back in, and a pattern that matches
    a folder matches everything under it (wildcards within a path segment are enough here).
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for raw in dockerignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            verdict = not keep
    return verdict


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continued lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.partition(" ")
        assert keyword == keyword.upper(), pending
        instructions.append((keyword, arguments.strip()))
        pending = ""
    assert not pending, "a continued line at the end"
    return instructions


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("sesame", "sesame"),
        ("Sesame_V2.1", "sesame-v2-1"),
        ("3-way.model", "way-model"),
        ("a" * 70 + "-b", "a" * 63),
        ("x" * 62 + "-y", "x" * 62),
    ],
)
def test_names_derive_from_the_model_name(model: str, expected: str) -> None:
    assert kserve_name(model) == expected
    KServeOptions(name=expected)


def test_a_model_name_without_letters_needs_a_name() -> None:
    with pytest.raises(ConfigError, match="cannot make an InferenceService name") as info:
        kserve_name("2024.01")
    assert info.value.hint is not None and "--name" in info.value.hint


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"name": "Sesame"}, "invalid InferenceService name 'Sesame'"),
        ({"name": "sesame_prod"}, "invalid InferenceService name"),
        ({"name": "1sesame"}, "invalid InferenceService name"),
        ({"name": "sesame-"}, "invalid InferenceService name"),
        ({"name": "s" * 64}, "invalid InferenceService name"),
        ({"name": ""}, "invalid InferenceService name"),
        ({"namespace": "ML"}, "invalid namespace"),
        ({"image": "my image"}, "invalid image"),
        ({"image": ""}, "invalid image"),
        ({"replicas": 0}, "invalid replicas 0"),
        ({"cpu": "lots"}, "invalid cpu 'lots'"),
        ({"cpu": "-1"}, "invalid cpu"),
        ({"memory": "2GB"}, "invalid memory '2GB'"),
        ({"port": 0}, "invalid port 0"),
        ({"port": 9090}, "invalid port 9090"),
        ({"port": 70000}, "invalid port"),
        ({"store_secret": "Assay_Store"}, "invalid Secret name"),
    ],
)
def test_invalid_options_are_refused_with_a_hint(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        KServeOptions(**{"name": "sesame", **options})
    assert needle in info.value.message
    assert info.value.hint
    assert info.value.exit_code == 2


def test_the_reference_must_name_the_version_s_model() -> None:
    with pytest.raises(ConfigError, match="not a reference to model 'sesame'"):
        kserve_manifests(version(), "other@production", KServeOptions(name="sesame"))
