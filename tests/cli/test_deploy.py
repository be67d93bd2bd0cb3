"""`assay deploy kserve`: manifests written for a registry reference, mistakes refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assay import Settings
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.governed import promoted_toy


@pytest.fixture
def toy(project: Path) -> Path:
    """toy@1, promoted to production, in the store of the project folder."""
    promoted_toy(Settings.for_project(project, user="alice"), project / "toy").close()
    return project


def test_deploy_writes_the_inference_service_and_the_dockerfile(cli: Invoke, toy: Path) -> None:
    result = cli("deploy", "kserve", "toy@production")
    assert result.code == 0, result.err
    folder = toy / "deploy" / "toy"
    assert "wrote deploy/toy/inferenceservice.yaml, deploy/toy/Dockerfile" in result.out
    assert "for toy@production (toy@1)" in result.out
    assert "kubectl apply -f deploy/toy/inferenceservice.yaml" in result.out
    doc = yaml.safe_load((folder / "inferenceservice.yaml").read_text())
    assert doc["kind"] == "InferenceService" and doc["metadata"]["name"] == "toy"
    assert doc["metadata"]["annotations"]["assay/model-version"] == "1"
    assert doc["metadata"]["annotations"]["assay/model-ref"] == "toy@production"
    [container] = doc["spec"]["predictor"]["containers"]
    assert container["args"][0] == "toy@production"
    assert 'ENTRYPOINT ["assay", "serve"]' in (folder / "Dockerfile").read_text()


def test_every_option_reaches_the_manifest(cli: Invoke, toy: Path) -> None:
    result = cli(
        "deploy",
        "kserve",
        "toy@1",
        "-o",
        "k8s",
        "--name",
        "toy-prod",
        "--namespace",
        "ml",
        "--image",
        "registry.example/toy:1",
        "--replicas",
        "2",
        "--cpu",
        "250m",
        "--memory",
        "512Mi",
        "--port",
        "9000",
        "--store-secret",
        "toy-store",
    )
    assert result.code == 0, result.err
    doc = yaml.safe_load((toy / "k8s" / "inferenceservice.yaml").read_text())
    assert doc["metadata"]["name"] == "toy-prod" and doc["metadata"]["namespace"] == "ml"
    predictor = doc["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 2
    [container] = predictor["containers"]
    assert container["image"] == "registry.example/toy:1"
    assert container["args"] == ["toy@1", "--host", "0.0.0.0", "--port", "9000"]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert container["env"][1]["valueFrom"]["secretKeyRef"]["name"] == "toy-store"
    assert "EXPOSE 9000" in (toy / "k8s" / "Dockerfile").read_text()
    assert not (toy / "deploy").exists()


def test_deploy_kserve_is_listed(cli: Invoke) -> None:
    result = cli("deploy", "--help")
    assert result.code == 0 and "kserve" in result.out


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (["nope@production"], 1, ["unknown model 'nope'"]),
        (["toy@staging"], 1, ["model 'toy' has no alias 'staging'", "production -> 1"]),
        (["toy@9"], 1, ["model 'toy' has no version 9"]),
        (["toy@"], 1, ["malformed model reference"]),
        (["toy@1", "--name", "Toy_Prod"], 2, ["invalid InferenceService name 'Toy_Prod'"]),
        (["toy@1", "--replicas", "0"], 2, ["invalid replicas 0", "at least 1"]),
        (["toy@1", "--replicas", "lots"], 2, ["Invalid value for '--replicas'"]),
        (["toy@1", "--cpu", "two"], 2, ["invalid cpu 'two'"]),
        (["toy@1", "--port", "9090"], 2, ["invalid port 9090", "Knative"]),
        (["toy@1", "--store-secret", "My Store"], 2, ["invalid Secret name"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli: Invoke, toy: Path, args: list[str], code: int, needles: list[str]
) -> None:
    assert_clean_error(cli("deploy", "kserve", *args), code, *needles)
    assert not (toy / "deploy").exists()


def test_an_unwritable_folder_is_a_clean_error(cli: Invoke, toy: Path) -> None:
    (toy / "taken").write_text("a file, not a folder")
    assert_clean_error(
        cli("deploy", "kserve", "toy@1", "-o", "taken"), 2, "cannot write into taken"
    )
