"""`assay deploy kserve`: manifests written for a registry reference, mistakes refused."""

from __future__ import annotations

import importlib.metadata
import json
import zipfile
from pathlib import Path

import pytest
import yaml

from assay import Settings
from assay.cli.commands import deploy
from assay.serving.distribution import RunningAssay
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.governed import promoted_toy
from tests.serving.test_kserve import STORE_AND_PROJECT, dockerfile_instructions, ignored


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


def installed_from_a_checkout() -> bool:
    """Whether pip installed the assay under test from a source folder (``pip install -e .``),
    as its PEP 610 record says; a version from a checkout may not be on the package index."""
    record = importlib.metadata.distribution("assay").read_text("direct_url.json")
    return record is not None and "dir_info" in json.loads(record)


def test_outside_a_checkout_the_image_installs_assay_at_the_running_version(
    cli: Invoke, toy: Path
) -> None:
    assert not (toy / "pyproject.toml").exists() and not (toy / ".git").exists()
    result = cli("deploy", "kserve", "toy@production")
    assert result.code == 0, result.err
    folder = toy / "deploy" / "toy"
    instructions = dockerfile_instructions((folder / "Dockerfile").read_text())
    # Nothing comes from the user's folder: no `COPY . .`, no `pip wheel .` of it.
    assert [arg for keyword, arg in instructions if keyword in {"COPY", "ADD"}] == []
    assert not any("pip wheel" in arg for _, arg in instructions)
    running = importlib.metadata.version("assay")
    assert ("RUN", f'pip install "assay[${{EXTRAS}}]=={running}"') in instructions
    dockerignore = (folder / ".dockerignore").read_text()
    for path in STORE_AND_PROJECT:
        assert ignored(dockerignore, path), path
    out = " ".join(result.out.split())
    assert "wrote deploy/toy/inferenceservice.yaml, deploy/toy/Dockerfile, " in out
    assert "deploy/toy/.dockerignore for toy@production (toy@1)" in out
    for assumed in (
        "assumed: build context deploy/toy (the Dockerfile copies nothing from your project)",
        "base image python:3.11-slim",
        f"assay assay[postgres]=={running} from the package index (the version here)",
        "model not in the image: each pod loads toy@production from the store and checks its "
        "sha256 (now toy@1, sha256:",
        "your code none in the image",
        "you provide the image pushed as assay:latest, and the Secret assay-store "
        "(ASSAY_DB_URL, ASSAY_ARTIFACT_ROOT, ASSAY_AUDIT_DIR) naming a store the cluster "
        "reaches that holds toy",
        f"warning: the store used here is local (sqlite:///{toy.resolve()}/.assay/assay.db",
        "next: docker build -t assay:latest deploy/toy && docker push assay:latest && "
        "kubectl apply -f deploy/toy/inferenceservice.yaml",
    ):
        assert assumed in out, (assumed, out)
    from_checkout = "runs here from the source checkout"
    if installed_from_a_checkout():
        assert f"warning: assay {running} {from_checkout}" in out
        assert "may not be on the package index; pass --wheel to build" in out
    else:
        assert from_checkout not in out


def test_wheel_installs_a_wheel_of_the_running_checkout_from_the_build_context(
    cli: Invoke, toy: Path
) -> None:
    if not installed_from_a_checkout():
        pytest.skip("the assay under test is not installed from a source checkout")
    result = cli("deploy", "kserve", "toy@production", "--wheel")
    if result.code != 0:
        # pip fetches setuptools from the package index to build a wheel.
        assert_clean_error(result, 1, "cannot build a wheel of assay from")
        pytest.skip(f"no package index to build a wheel with: {result.err.strip()}")
    folder = toy / "deploy" / "toy"
    [wheel] = folder.glob("assay-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "assay/serving/kserve.py" in archive.namelist()
    instructions = dockerfile_instructions((folder / "Dockerfile").read_text())
    assert [arg for keyword, arg in instructions if keyword in {"COPY", "ADD"}] == [
        f"{wheel.name} /tmp/"
    ]
    assert any(f'pip install "/tmp/{wheel.name}[${{EXTRAS}}]"' in arg for _, arg in instructions)
    dockerignore = (folder / ".dockerignore").read_text()
    assert not ignored(dockerignore, wheel.name) and ignored(dockerignore, ".assay/assay.db")
    out = " ".join(result.out.split())
    assert f"from deploy/toy/{wheel.name}, built here" in out
    assert "runs here from the source checkout" not in out


def test_an_assay_from_the_index_is_pinned_without_a_warning_and_has_no_wheel_to_build(
    cli: Invoke, toy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after `pip install assay==2.0`: pip recorded no source folder.
    monkeypatch.setattr(deploy, "running_assay", lambda: RunningAssay("2.0"))
    result = cli("deploy", "kserve", "toy@production")
    assert result.code == 0, result.err
    dockerfile = (toy / "deploy" / "toy" / "Dockerfile").read_text()
    assert 'RUN pip install "assay[${EXTRAS}]==2.0"' in dockerfile.splitlines()
    assert "source checkout" not in result.out
    (toy / "deploy" / "toy" / "Dockerfile").unlink()
    assert_clean_error(
        cli("deploy", "kserve", "toy@production", "--wheel"),
        2,
        "--wheel builds assay from its source checkout, but assay 2.0 here is not installed "
        "from one",
        "leave out --wheel: the image installs assay==2.0 from the package index",
    )
    assert not (toy / "deploy" / "toy" / "Dockerfile").exists()


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
