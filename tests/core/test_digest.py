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
