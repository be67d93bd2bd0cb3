from __future__ import annotations

import pytest

from assay.core import canonical_json, sha256_hex


def test_canonical_json_is_independent_of_key_order() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})
    assert canonical_json({"a": (1, 2)}) == '{"a":[1,2]}'


def test_non_finite_floats_are_distinct_and_stable() -> None:
    nan, inf = canonical_json(float("nan")), canonical_json(float("inf"))
    assert nan != inf
    assert nan == canonical_json(float("nan"))


def test_unrepresentable_values_raise_type_error() -> None:
    with pytest.raises(TypeError, match="set"):
        canonical_json({1, 2})


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_record_json_keeps_non_finite_numbers_as_strict_json() -> None:
    import json
    import math
    from pathlib import Path

    from assay.core import dumps_json, loads_json

    text = dumps_json({"a": math.nan, "b": [math.inf, -math.inf, 1.5], "p": Path("/x")})
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    back = loads_json(text)
    assert math.isnan(back["a"])
    assert back["b"] == [math.inf, -math.inf, 1.5]
    assert back["p"] == "/x"
