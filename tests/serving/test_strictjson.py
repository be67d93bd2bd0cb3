"""Reading JSON bodies strictly: UTF-8, no NaN or Infinity, bounded nesting, no lone
surrogates; the fast reader and the standard library agree on everything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.serving.protocol import BadRequest
from assay.serving.strictjson import MAX_DEPTH, check_text, parse_json, unencodable
from tests.serving.refusals import PROPERTIES, refused


def test_parse_json_reads_json_and_keeps_surrogate_pairs() -> None:
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert parse_json('["\\ud83d\\ude00", "é"]'.encode()) == ["\U0001f600", "é"]
    assert parse_json(b'["\\\\ud800"]') == ["\\ud800"]  # an escaped backslash, no surrogate


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"a": 1} x', "not valid JSON"),
        (b"\xff\xfe{}", "byte 0 is not UTF-8"),
        ('"a"'.encode("utf-16"), "not UTF-8"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b'{"x": -Infinity}', "-Infinity is not a JSON number"),
        (b"[" * 2000 + b"]" * 2000, f"nests deeper than {MAX_DEPTH} levels"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "nests deeper than"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nests deeper than"),
        (b'{"inputs": [{"data": ["ok", "\\ud800"]}]}', "inputs[0].data[1] is not valid Unicode"),
        (b'{"\\udfff": 1}', "a key in the body is not valid Unicode"),
        (b'"\\ud800"', "the body is not valid Unicode"),
        (b'["\\ude00\\ud83d"]', "lone surrogate"),  # the halves in the wrong order
    ],
)
def test_parse_json_refuses_with_a_400(body: bytes, needle: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(body)
    assert caught.value.status == 400
    assert needle in caught.value.message
    assert "\n" not in caught.value.message


def test_nesting_up_to_the_limit_is_read() -> None:
    deep = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    value = parse_json(deep)
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == []


def test_brackets_inside_texts_are_no_nesting() -> None:
    body = json.dumps({"data": ["[" * 5000, "{" * 100 + "\\"]})
    assert parse_json(body.encode()) == {"data": ["[" * 5000, "{" * 100 + "\\"]}


def test_unencodable_and_check_text() -> None:
    assert not unencodable("plain") and not unencodable("é\U0001f600")
    assert unencodable("a\ud800") and unencodable("\udfff")
    assert check_text("fine", "x") == "fine"
    with pytest.raises(BadRequest, match=r"inputs\[0\].data\[2\] is not valid Unicode text"):
        check_text("ab\udc80", "inputs[0].data[2]")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@PROPERTIES
@given(_JSON_VALUES, st.booleans())
def test_any_json_reads_as_the_standard_library_reads_it(value: Any, ascii_only: bool) -> None:
    # Hypothesis' texts hold no lone surrogate (refused, as the cases above check).
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert parse_json(body) == json.loads(body)


def test_what_the_fast_reader_refuses_is_read_as_before() -> None:
    # Numbers past a double: Python's reader gives infinity, as before the fast reader.
    assert parse_json(b"[1e400]") == [float("inf")]
    assert parse_json(b' {"a": 1} \n') == {"a": 1}


@PROPERTIES
@given(st.binary(max_size=200))
def test_any_bytes_as_json_raise_nothing_but_bad_request(body: bytes) -> None:
    error = refused(lambda: parse_json(body))
    assert error is None or (error.status == 400 and error.message)
