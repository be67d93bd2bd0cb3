"""The binary tensor data extension: requests split into JSON, responses joined into binary,
every refusal a 400 naming the input, and the same bytes as tritonclient's own encoder."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from hypothesis import given
from hypothesis import strategies as st

from assay.serving.binary import (
    DATATYPES,
    binary_outputs,
    decode_tensor,
    encode_tensor,
    split_request,
)
from assay.serving.protocol import BadRequest
from tests.serving.refusals import PROPERTIES, refused

NUMPY = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}


def texts(*values: str) -> bytes:
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def request(*tensors: tuple[dict[str, Any], bytes], extra: dict[str, Any] | None = None) -> Any:
    """A body in the binary form and its header length, from (input, its bytes) pairs."""
    header = json.dumps({"inputs": [t for t, _ in tensors], **(extra or {})}).encode()
    return header + b"".join(raw for _, raw in tensors), str(len(header))


def text_input(raw: bytes, shape: Any = None, **more: Any) -> dict[str, Any]:
    return {
        "name": "text",
        "shape": [1] if shape is None else shape,
        "datatype": "BYTES",
        "parameters": {"binary_data_size": len(raw)},
        **more,
    }


def refusal(body: bytes, header: str | None) -> str:
    with pytest.raises(BadRequest) as caught:
        split_request(body, header)
    assert caught.value.status == 400
    return caught.value.message


# --- requests -----------------------------------------------------------------------------


def test_without_the_header_the_body_is_json() -> None:
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]}]}
    assert split_request(json.dumps(body).encode(), None) == body
    assert "must be a JSON object, got list" in refusal(b"[1]", None)
    message = refusal(request((text_input(b""), b""))[0], None)
    assert "inputs[0] ('text') has parameters.binary_data_size" in message
    assert "Inference-Header-Content-Length" in message


def test_texts_and_numbers_are_decoded_in_order_and_the_size_is_dropped() -> None:
    body, header = request(
        (text_input(texts("héllo", "", "x"), [3]), texts("héllo", "", "x")),
        (
            {
                "name": "n",
                "shape": [2, 2],
                "datatype": "INT64",
                "parameters": {"binary_data_size": 32, "note": 1},
            },
            np.array([1, -2, 3, 2**62], "<i8").tobytes(),
        ),
        ({"name": "j", "shape": [1], "datatype": "FP64", "data": [0.5]}, b""),
        (
            {"name": "f", "shape": [3], "datatype": "BOOL", "parameters": {"binary_data_size": 3}},
            b"\x01\x00\x01",
        ),
        extra={"id": "r1", "outputs": [{"name": "label"}]},
    )
    parsed = split_request(body, header)
    assert parsed["id"] == "r1" and parsed["outputs"] == [{"name": "label"}]
    text, number, plain, flags = parsed["inputs"]
    assert text == {"name": "text", "shape": [3], "datatype": "BYTES", "data": ["héllo", "", "x"]}
    assert number["data"] == [1, -2, 3, 2**62] and number["parameters"] == {"note": 1}
    assert plain["data"] == [0.5]
    assert flags["data"] == [True, False, True]
    assert all(isinstance(v, bool) for v in flags["data"])


def test_a_header_as_long_as_the_body_is_plain_json_and_empty_tensors_are_fine() -> None:
    body = b'{"inputs": []}'
    assert split_request(body, str(len(body))) == {"inputs": []}
    assert split_request(body, f" {len(body)} ") == {"inputs": []}
    empty, header = request((text_input(b"", [0]), b""))
    assert split_request(empty, header)["inputs"][0]["data"] == []


@pytest.mark.parametrize("header", ["abc", "-1", "1.5", "", "²", "0x10", "1e3", "9" * 40])
def test_a_header_that_is_not_a_length_is_refused(header: str) -> None:
    assert "Inference-Header-Content-Length" in refusal(b'{"inputs": []}', header)


def test_a_header_longer_than_the_body_is_refused() -> None:
    message = refusal(b'{"inputs": []}', "15")
    assert "is 15, but the body has only 14 bytes" in message


def one(raw: bytes, tensor: dict[str, Any]) -> str:
    """The refusal of a request of one input, ``tensor``, followed by ``raw``."""
    return refusal(*request((tensor, raw)))


def fp32(size: int, shape: Any = None, datatype: Any = "FP32") -> dict[str, Any]:
    return {
        "name": "x",
        "shape": [2] if shape is None else shape,
        "datatype": datatype,
        "parameters": {"binary_data_size": size},
    }


@pytest.mark.parametrize(
    ("raw", "tensor", "needle"),
    [
        (b"\x00" * 4, fp32(4), "inputs[0] ('x').parameters.binary_data_size is 4, but shape [2]"),
        (b"\x00" * 12, fp32(12), "of FP32 takes 8 bytes"),
        (b"\x00" * 8, fp32(8, datatype="FLOAT"), "inputs[0] ('x').datatype is \"FLOAT\""),
        (b"\x00" * 8, fp32(8, datatype=None), "datatype is null; binary data is one of BOOL"),
        (b"\x00" * 8, fp32(8, shape=[-1, 2]), "inputs[0] ('x').shape must be a list of sizes"),
        (b"\x00" * 8, fp32(8, shape="2"), "shape must be a list"),
        (b"\x00" * 8, fp32(8, shape=[True, 2]), "shape must be a list"),
        (b"\x00" * 8, fp32(8, shape=[2.0]), "shape must be a list"),
        (b"\x00" * 8, {**fp32(8), "data": [1, 2]}, "inputs[0] ('x') has both data and binary"),
        (b"\x00", {**fp32(1), "parameters": {"binary_data_size": -1}}, "must be a whole number"),
        (b"\x00", {**fp32(1), "parameters": {"binary_data_size": True}}, "got true"),
        (b"\x00", {**fp32(1), "parameters": {"binary_data_size": 1.0}}, "got 1.0"),
        (b"\x00", {**fp32(1), "parameters": {"binary_data_size": "1"}}, 'got "1"'),
        (b"\x00", {**fp32(1), "parameters": {"binary_data_size": [1]}}, "got [1]"),
        (b"\x00", {**fp32(1), "parameters": [1]}, "inputs[0] ('x').parameters must be an object"),
        (
            b"",
            {**fp32(0), "parameters": {"shared_memory_region": "r"}},
            "names a shared memory region",
        ),
        (b"\x00\x02", fp32(2, [2], "BOOL"), "BOOL, whose bytes are 0 or 1; one is 2"),
        (b"\x00" * 16, fp32(16, [1], "BF16"), "of BF16 takes 2 bytes"),
        (texts("a"), text_input(texts("a"), [2]), "holds 2 texts, which take at least 8 bytes"),
        (
            b"\xff\xff\xff\xffab",  # the largest length, then two bytes
            text_input(b"\x00" * 6),
            "element 0 is 4294967295 bytes long, but only 2",
        ),
        (
            b"\x05\x00\x00\x00abc",
            text_input(b"\x00" * 7),
            "inputs[0] ('text'): element 0 is 5 bytes long, but only 3 bytes",
        ),
        (
            texts("a") + b"\x00\x00\x00",
            text_input(b"\x00" * 8, [2]),
            "element 1 has no 4-byte length",
        ),
        (texts("ab") + b"zz", text_input(b"\x00" * 8), "2 bytes are left after its 1 elements"),
        (
            b"\x02\x00\x00\x00\xc3\x28",
            text_input(b"\x00" * 6),
            "inputs[0] ('text'): element 0 is not UTF-8 text (at its byte 0)",
        ),
        (
            b"\x03\x00\x00\x00\xed\xa0\x80",  # a surrogate spelled in UTF-8's form
            text_input(b"\x00" * 7),
            "element 0 is not UTF-8 text",
        ),
    ],
)
def test_each_refusal_names_the_input_and_the_problem(
    raw: bytes, tensor: dict[str, Any], needle: str
) -> None:
    assert needle in one(raw, tensor)


def test_sizes_that_do_not_add_up_to_the_bytes_are_refused() -> None:
    short = text_input(texts("abc"))
    too_big = {**short, "parameters": {"binary_data_size": 100}}
    message = refusal(*request((too_big, texts("abc"))))
    assert "inputs[0] ('text').parameters.binary_data_size is 100, but only 7 bytes" in message
    body, header = request((short, texts("abc") + b"extra"))
    message = refusal(body, header)
    assert "5 bytes after the JSON header belong to no input" in message
    assert "add up to 7 of the 12" in message
    plain = b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}'
    assert "belong to no input" in refusal(plain + b"\x00", str(len(plain)))


def test_a_header_that_is_no_request_object_is_refused() -> None:
    assert "the JSON header must be a JSON object, got list" in refusal(b"[]xx", "2")
    assert '"inputs" must be a list of tensors' in refusal(b'{"inputs": 3}', "13")
    assert "inputs[1] must be a tensor object" in refusal(b'{"inputs": [{}, 1]}', "19")
    assert "not valid JSON" in refusal(b'{"inputs": [}' + b"\x00" * 4, "13")
    assert "not valid JSON" in refusal(b"{}", "0")


def test_numbers_of_every_datatype_come_back_as_python_values() -> None:
    for datatype, kind in NUMPY.items():
        values = np.array([0, 1, 1, 0, 1, 1], dtype=kind).reshape(2, 3)
        decoded = decode_tensor(values.tobytes(), datatype, [2, 3], "x")
        assert decoded == values.ravel().tolist(), datatype
        assert all(type(v) in (int, float, bool) for v in decoded)
    halves = np.array([1.0, -2.5, 0.15625], "<f4").view("<u4") >> 16
    assert decode_tensor(halves.astype("<u2").tobytes(), "BF16", [3], "x") == [1.0, -2.5, 0.15625]


# --- encoding, and tritonclient's bytes ---------------------------------------------------


def test_encode_tensor_is_the_documented_layout() -> None:
    assert encode_tensor(["ab", "é", b"\x00"], "BYTES") == (
        b"\x02\x00\x00\x00ab\x02\x00\x00\x00\xc3\xa9\x01\x00\x00\x00\x00"
    )
    assert encode_tensor([1.5], "FP64") == struct.pack("<d", 1.5)
    assert encode_tensor([True, False], "BOOL") == b"\x01\x00"
    assert encode_tensor([-1], "INT16") == b"\xff\xff"
    assert encode_tensor([1.0, float("nan"), 1.00390625], "BF16") == (
        b"\x80\x3f\xc0\x7f\x80\x3f"  # 1.00390625 is a tie, rounded to the even 1.0
    )
    with pytest.raises(ValueError, match="no binary form"):
        encode_tensor([1], "COMPLEX64")


def test_tritonclient_requests_are_split_into_the_json_it_would_have_sent() -> None:
    words = np.array(["Profit rose.", "", "Verlust stieg ü", "😀"], dtype=object)
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    inputs = []
    for binary in (True, False):
        text = triton.InferInput("text", [4], "BYTES").set_data_from_numpy(words, binary)
        numbers = triton.InferInput("m", [2, 3], "FP32").set_data_from_numpy(matrix, binary)
        counts = triton.InferInput("c", [2], "INT64")
        counts.set_data_from_numpy(np.array([7, -9], np.int64), binary)
        inputs.append([text, numbers, counts])
    outputs = [triton.InferRequestedOutput("label")]
    as_binary, header = triton.InferenceServerClient.generate_request_body(
        inputs[0], outputs=outputs, request_id="r1"
    )
    as_json, none = triton.InferenceServerClient.generate_request_body(
        inputs[1], outputs=outputs, request_id="r1"
    )
    assert header is not None and none is None
    split = split_request(as_binary, str(header))
    assert split == split_request(as_json, None)
    assert split["inputs"][0]["data"] == words.tolist()
    assert split["inputs"][1]["data"] == matrix.ravel().tolist()
    assert split["inputs"][2]["data"] == [7, -9]
    assert split["outputs"] == [{"name": "label", "parameters": {"binary_data": True}}]


@PROPERTIES
@given(
    st.lists(st.text(max_size=30), max_size=12),
    st.sampled_from([k for k in NUMPY if k != "FP16"]),
    st.lists(st.integers(0, 1), max_size=12),
)
def test_tritonclient_round_trips(words: list[str], datatype: str, bits: list[int]) -> None:
    array = np.array(words, dtype=object)
    numbers = np.array(bits, dtype=NUMPY[datatype])
    text = triton.InferInput("text", [len(words)], "BYTES").set_data_from_numpy(array)
    other = triton.InferInput("n", [len(bits)], datatype).set_data_from_numpy(numbers)
    body, header = triton.InferenceServerClient.generate_request_body([text, other])
    split = split_request(body, str(header))
    assert split["inputs"][0]["data"] == words
    assert split["inputs"][1]["data"] == numbers.tolist()
    assert split["parameters"] == {"binary_data_output": True}


RESPONSE = {
    "model_name": "tiny",
    "model_version": "1",
    "id": "r1",
    "parameters": {"classes": ["down", "up"]},
    "outputs": [
        {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["up", "dówn"]},
        {"name": "probabilities", "datatype": "FP64", "shape": [2, 2], "data": [0.1, 0.9, 1, 0]},
    ],
}


@pytest.mark.parametrize(
    ("wanted", "all_binary", "binary"),
    [
        ({"label"}, False, {"label"}),
        ({"probabilities"}, False, {"probabilities"}),
        (None, True, {"label", "probabilities"}),
        (frozenset({"label", "nothing"}), False, {"label"}),
        (set(), False, set()),
        (None, False, set()),
    ],
)
def test_tritonclient_reads_the_binary_outputs(
    wanted: set[str] | None, all_binary: bool, binary: set[str]
) -> None:
    before = json.dumps(RESPONSE)
    body, header = binary_outputs(RESPONSE, wanted, all_binary)
    assert json.dumps(RESPONSE) == before  # the response given is left as it was
    result = triton.InferResult.from_response_body(body, header_length=header)
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")]
    assert labels == ["up", "dówn"]
    assert result.as_numpy("probabilities").tolist() == [[0.1, 0.9], [1.0, 0.0]]
    answered = result.get_response()
    assert answered["id"] == "r1" and answered["parameters"] == {"classes": ["down", "up"]}
    for output in answered["outputs"]:
        is_binary = output["name"] in binary
        assert ("data" in output) is not is_binary
        assert ("binary_data_size" in output.get("parameters", {})) is is_binary
    assert json.loads(body[:header]) == answered
    if not binary:
        assert header == len(body)


def test_binary_outputs_keeps_other_parameters_and_adds_the_size() -> None:
    response = {
        "outputs": [
            {"name": "o", "datatype": "INT32", "shape": [2], "data": [1, 2], "parameters": {"k": 1}}
        ]
    }
    body, header = binary_outputs(response, {"o"})
    head = json.loads(body[:header])
    assert head["outputs"][0]["parameters"] == {"k": 1, "binary_data_size": 8}
    assert body[header:] == b"\x01\x00\x00\x00\x02\x00\x00\x00"


@PROPERTIES
@given(
    st.sampled_from(DATATYPES),
    st.lists(st.integers(0, 1), max_size=10),
    st.lists(st.text(max_size=10), max_size=6),
)
def test_encode_then_decode_is_the_identity(
    datatype: str, bits: list[int], words: list[str]
) -> None:
    data: list[Any] = words if datatype == "BYTES" else bits
    if datatype == "BOOL":
        data = [bool(b) for b in bits]
    elif datatype.startswith(("FP", "BF")):
        data = [float(b) / 2 for b in bits]
    raw = encode_tensor(data, datatype)
    assert decode_tensor(raw, datatype, [len(data)], "x") == data


# --- hostile bytes ------------------------------------------------------------------------

shapes = st.lists(st.integers(0, 5), max_size=3) | st.sampled_from([[-1], "3", None, [True]])
datatypes = st.sampled_from([*DATATYPES, "FLOAT", None])
sizes = st.integers(0, 64) | st.sampled_from([-1, 2**70, 1.5, True, "8", None])
hostile_inputs = st.fixed_dictionaries(
    {"name": st.sampled_from(["text", "x"]), "shape": shapes, "datatype": datatypes},
    optional={
        "parameters": st.fixed_dictionaries({"binary_data_size": sizes})
        | st.sampled_from([{}, [], None]),
        "data": st.just(["a"]),
    },
)


@PROPERTIES
@given(st.lists(hostile_inputs, max_size=3), st.binary(max_size=80), st.integers(-2, 2))
def test_random_bytes_after_a_valid_header_raise_nothing_but_bad_request(
    inputs: list[dict[str, Any]], tail: bytes, skew: int
) -> None:
    header = json.dumps({"inputs": inputs}).encode()
    length = str(max(0, len(header) + skew))
    split: list[dict[str, Any]] = []
    error = refused(lambda: split.append(split_request(header + tail, length)))
    if error is not None:
        assert error.status == 400 and error.message and "\n" not in error.message
    else:
        for tensor in split[0]["inputs"]:
            assert "binary_data_size" not in (tensor.get("parameters") or {})


@PROPERTIES
@given(st.binary(max_size=120), st.one_of(st.none(), st.text(max_size=6)))
def test_any_body_and_header_raise_nothing_but_bad_request(body: bytes, header: str | None) -> None:
    error = refused(lambda: split_request(body, header))
    assert error is None or (error.status == 400 and error.message)
