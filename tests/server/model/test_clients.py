"""Real client libraries against a real `assay serve` on 127.0.0.1: Triton's tritonclient
(binary tensors both ways, gzip) in this process, and the kserve SDK from its own virtual
environment (made by scripts/client-venv), as the users of either would call them."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from assay.server.model.http import serving
from assay.serving import score_csv
from assay.serving.server import ServeOptions
from assay.workspace import Workspace

# Far from the boundary, so that the served (compiled) form and `assay predict` agree on each
# label; the third is not ASCII, as binary BYTES tensors carry UTF-8.
TEXTS = ["profit rose strongly again", "loss widened sharply", "die loss widened — ü 😀"]
KSERVE = "0.21.0"


@pytest.fixture
def server(served: Workspace) -> Iterator[str]:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        yield url


@pytest.fixture
def expected(served: Workspace, tmp_path: Path) -> dict[str, Any]:
    """What `assay predict` answers for TEXTS with tiny@live: the labels, and the
    probabilities row by row (down, up), flat as a V2 tensor holds them."""
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(source, index=False)
    score_csv(served, "tiny@live", source, None, target)
    frame = pd.read_csv(target)
    return {
        "label": frame["prediction"].tolist(),
        "probabilities": frame[["proba_down", "proba_up"]].to_numpy().ravel().tolist(),
    }


def client(url: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url.removeprefix("http://"))


def text_input(binary: bool, texts: list[str] = TEXTS) -> triton.InferInput:
    tensor = triton.InferInput("text", [len(texts)], "BYTES")
    return tensor.set_data_from_numpy(np.array(texts, dtype=object), binary_data=binary)


def labels(result: triton.InferResult) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")]


def in_binary(result: triton.InferResult, name: str) -> bool:
    output = result.get_output(name)
    assert output is not None, f"no output {name!r} in {result.get_response()}"
    return "binary_data_size" in (output.get("parameters") or {})


# --- tritonclient -------------------------------------------------------------------------


def test_tritonclient_health_and_metadata(server: str) -> None:
    with client(server) as triton_client:
        assert triton_client.is_server_live()
        assert triton_client.is_server_ready()
        assert triton_client.is_model_ready("tiny")
        assert triton_client.is_model_ready("tiny", "1")
        assert not triton_client.is_model_ready("nope")
        assert not triton_client.is_model_ready("tiny", "9")
        metadata = triton_client.get_server_metadata()
        assert metadata["name"] == "assay"
        assert "binary_tensor_data" in metadata["extensions"]
        model = triton_client.get_model_metadata("tiny")
        assert model == httpx.get(f"{server}/v2/models/tiny").json()
        assert model["versions"] == ["1"]
        assert model["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
        assert [o["name"] for o in model["outputs"]] == ["label", "probabilities"]
        assert triton_client.get_model_metadata("tiny", "1") == model


def test_tritonclient_infers_with_binary_and_json_tensors_both_ways(
    server: str, expected: dict[str, Any]
) -> None:
    plain = httpx.post(
        f"{server}/v2/models/tiny/infer",
        json={"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES", "data": TEXTS}]},
    )
    assert plain.status_code == 200, plain.text
    by_json = {o["name"]: o["data"] for o in plain.json()["outputs"]}
    assert by_json["label"] == expected["label"]
    with client(server) as triton_client:
        for binary_in in (True, False):
            for binary_probabilities in (True, False):
                asked = [
                    triton.InferRequestedOutput("label", binary_data=True),
                    triton.InferRequestedOutput("probabilities", binary_data=binary_probabilities),
                ]
                result = triton_client.infer(
                    "tiny", [text_input(binary_in)], outputs=asked, request_id="t-1"
                )
                case = (binary_in, binary_probabilities)
                assert labels(result) == expected["label"], case
                probabilities = result.as_numpy("probabilities")
                assert probabilities.shape == (3, 2), case
                flat = probabilities.ravel().tolist()
                assert flat == pytest.approx(expected["probabilities"]), case
                assert flat == by_json["probabilities"], case
                assert in_binary(result, "label"), case
                assert in_binary(result, "probabilities") is binary_probabilities, case
                answer = result.get_response()
                assert answer["id"] == "t-1" and answer["model_version"] == "1"
                assert answer["parameters"]["classes"] == ["down", "up"]


def test_tritonclient_without_outputs_asked_gets_every_output_in_binary(
    server: str, expected: dict[str, Any]
) -> None:
    with client(server) as triton_client:
        result = triton_client.infer("tiny", [text_input(True)])
        assert in_binary(result, "label") and in_binary(result, "probabilities")
        assert labels(result) == expected["label"]
        probabilities = result.as_numpy("probabilities").ravel().tolist()
        assert probabilities == pytest.approx(expected["probabilities"])
        versioned = triton_client.infer("tiny", [text_input(False)], model_version="1")
        assert labels(versioned) == expected["label"]


def test_tritonclient_asking_only_for_label_gets_only_label(
    server: str, expected: dict[str, Any]
) -> None:
    with client(server) as triton_client:
        for binary in (True, False):
            asked = [triton.InferRequestedOutput("label", binary_data=binary)]
            result = triton_client.infer("tiny", [text_input(True)], outputs=asked)
            assert [o["name"] for o in result.get_response()["outputs"]] == ["label"]
            assert labels(result) == expected["label"]
            assert in_binary(result, "label") is binary
            assert result.as_numpy("probabilities") is None


def test_an_output_asked_as_json_overrides_binary_data_output(
    server: str, expected: dict[str, Any]
) -> None:
    # tritonclient never sends both (it reserves binary_data_output); the kserve SDK and a
    # hand-written client may, and the extension says the output's own choice wins.
    tensor = {"name": "text", "shape": [3], "datatype": "BYTES", "data": TEXTS}
    body = {
        "inputs": [tensor],
        "outputs": [
            {"name": "label"},
            {"name": "probabilities", "parameters": {"binary_data": False}},
        ],
        "parameters": {"binary_data_output": True},
    }
    response = httpx.post(f"{server}/v2/models/tiny/infer", json=body)
    assert response.status_code == 200, response.text
    header = response.headers.get("inference-header-content-length")
    assert header is not None, response.text
    result = triton.InferResult.from_response_body(response.content, header_length=int(header))
    assert in_binary(result, "label") and not in_binary(result, "probabilities")
    assert labels(result) == expected["label"]


def test_tritonclient_refusals_are_400s_with_the_reason(server: str) -> None:
    with client(server) as triton_client:
        with pytest.raises(InferenceServerException) as caught:
            triton_client.infer(
                "tiny", [text_input(True)], outputs=[triton.InferRequestedOutput("logits")]
            )
        assert caught.value.status() == "400"
        assert "logits" in caught.value.message()
        wrong = triton.InferInput("text", [2], "FP32")
        wrong.set_data_from_numpy(np.zeros(2, dtype=np.float32))
        with pytest.raises(InferenceServerException) as caught:
            triton_client.infer("tiny", [wrong])
        assert caught.value.status() == "400"
        assert "BYTES" in caught.value.message()
        with pytest.raises(InferenceServerException) as caught:
            triton_client.infer("nope", [text_input(True)])
        assert caught.value.status() == "404"


def test_tritonclient_compressed_requests_work(server: str, expected: dict[str, Any]) -> None:
    with client(server) as triton_client:
        for algorithm in ("gzip", "deflate"):
            for binary in (True, False):
                result = triton_client.infer(
                    "tiny",
                    [text_input(binary)],
                    outputs=[triton.InferRequestedOutput("label")],
                    request_compression_algorithm=algorithm,
                    response_compression_algorithm=algorithm,
                )
                assert labels(result) == expected["label"], (algorithm, binary)


def test_binary_requests_stay_within_the_body_limit(served: Workspace) -> None:
    many = ["profit rose strongly again"] * 200
    with (
        serving(served, ["tiny@live"], ServeOptions(max_body_bytes=2000)) as (url, _),
        client(url) as triton_client,
    ):
        with pytest.raises(InferenceServerException) as caught:
            triton_client.infer("tiny", [text_input(True, many)])
        assert caught.value.status() == "413"
        with pytest.raises(InferenceServerException) as caught:
            triton_client.infer(
                "tiny", [text_input(True, many)], request_compression_algorithm="gzip"
            )
        assert caught.value.status() == "413"  # the limit holds for the body inflated


# --- the kserve SDK, in its own virtual environment ---------------------------------------

KSERVE_CLIENT = r"""
import asyncio
import json
import sys
from importlib.metadata import version

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

url, texts = sys.argv[1], json.loads(sys.argv[2])


def outputs(response, headers):
    return {
        "id": response.id,
        "binary": "inference-header-content-length" in headers,
        "outputs": {
            o.name: {
                "shape": list(o.shape),
                "data": [v.decode() if isinstance(v, bytes) else v for v in o.data],
            }
            for o in response.outputs
        },
    }


async def main():
    found = {"version": version("kserve")}
    v1 = InferenceRESTClient(RESTConfig(protocol="v1", timeout=30))
    v2 = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    try:
        found["v1_live"] = await v1.is_server_live(url)
        found["v2_live"] = await v2.is_server_live(url)
        found["v2_ready"] = await v2.is_server_ready(url)
        found["v1_model_ready"] = await v1.is_model_ready(url, "tiny")
        found["v2_model_ready"] = await v2.is_model_ready(url, "tiny")
        found["v2_unknown_ready"] = await v2.is_model_ready(url, "nope")
        found["v1_predict"] = await v1.infer(url, {"instances": texts}, model_name="tiny")

        plain = InferInput(name="text", shape=[len(texts)], datatype="BYTES", data=texts)
        request = InferRequest(model_name="tiny", infer_inputs=[plain], request_id="k-json")
        headers = {}
        response = await v2.infer(url, request, model_name="tiny", response_headers=headers)
        found["v2_json"] = outputs(response, headers)

        packed = InferInput(name="text", shape=[len(texts)], datatype="BYTES")
        packed.set_data_from_numpy(np.array(texts, dtype=object), binary_data=True)
        request = InferRequest(
            model_name="tiny",
            infer_inputs=[packed],
            request_id="k-binary",
            parameters={"binary_data_output": True},
        )
        headers = {}
        response = await v2.infer(url, request, model_name="tiny", response_headers=headers)
        found["v2_binary"] = outputs(response, headers)

        request = InferRequest(
            model_name="tiny",
            infer_inputs=[InferInput(name="text", shape=[len(texts)], datatype="BYTES", data=texts)],
            request_id="k-label",
            request_outputs=[RequestedOutput(name="label", parameters={"binary_data": True})],
        )
        headers = {}
        response = await v2.infer(url, request, model_name="tiny", response_headers=headers)
        found["v2_label"] = outputs(response, headers)

        other = InferRequest(model_name="nope", infer_inputs=[plain])
        found["v2_unknown"] = {"status": 200, "message": "answered, not refused"}
        try:
            await v2.infer(url, other, model_name="nope")
        except httpx.HTTPStatusError as exc:
            found["v2_unknown"] = {"status": exc.response.status_code, "message": str(exc)}
    finally:
        await v1.close()
        await v2.close()
    print(json.dumps(found))


asyncio.run(main())
"""


def kserve_python() -> Path:
    """The python of the client virtual environment, which must hold kserve KSERVE."""
    default = Path.home() / ".cache" / "assay" / "client-venv"
    venv = Path(os.environ.get("ASSAY_CLIENT_VENV") or default)
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(
            f"no client virtual environment at {venv}: run scripts/client-venv (it installs "
            f"kserve=={KSERVE} there; ASSAY_CLIENT_VENV names another folder)"
        )
    return python


def run_kserve(url: str, tmp_path: Path) -> dict[str, Any]:
    python = kserve_python()
    script = tmp_path / "kserve_client.py"
    script.write_text(KSERVE_CLIENT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(
        [str(python), str(script), url, json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    if "ModuleNotFoundError" in done.stderr:
        pytest.fail(
            f"the client virtual environment lacks kserve: run scripts/client-venv\n{done.stderr}"
        )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if found["version"] != KSERVE:
        pytest.fail(
            f"the client virtual environment has kserve {found['version']}, not {KSERVE}: run scripts/client-venv"
        )
    return found


def test_the_kserve_sdk_talks_to_the_server(
    server: str, expected: dict[str, Any], tmp_path: Path
) -> None:
    found = run_kserve(server, tmp_path)
    assert found["v1_live"] is True  # GET / answers {"status": "alive"}
    assert found["v2_live"] is True and found["v2_ready"] is True
    assert found["v1_model_ready"] is True and found["v2_model_ready"] is True
    assert found["v2_unknown_ready"] is False
    predictions = found["v1_predict"]["predictions"]
    assert [p["label"] for p in predictions] == expected["label"]
    probabilities = [p["probabilities"][c] for p in predictions for c in ("down", "up")]
    assert probabilities == pytest.approx(expected["probabilities"])
    for case, binary in (("v2_json", False), ("v2_binary", True)):
        answer = found[case]
        assert answer["binary"] is binary, case
        assert answer["outputs"]["label"] == {"shape": [3], "data": expected["label"]}, case
        probabilities = answer["outputs"]["probabilities"]
        assert probabilities["shape"] == [3, 2], case
        assert probabilities["data"] == pytest.approx(expected["probabilities"]), case
    assert found["v2_json"]["id"] == "k-json" and found["v2_binary"]["id"] == "k-binary"
    label_only = found["v2_label"]
    assert label_only["binary"] is True
    assert list(label_only["outputs"]) == ["label"]
    assert label_only["outputs"]["label"]["data"] == expected["label"]
    assert found["v2_unknown"]["status"] == 404
    assert "no model named 'nope'" in found["v2_unknown"]["message"]
