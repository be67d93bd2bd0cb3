from __future__ import annotations

import numpy as np
import pytest

from assay.errors import CodecError
from assay.store import ArrayBundle, BundleCodec, default_codecs


def sample() -> ArrayBundle:
    return ArrayBundle(
        {"format": "x/1", "parts": [{"n": 2}]},
        {
            "w": np.arange(6, dtype=np.float64).reshape(2, 3),
            "k": np.array([3, 1, 2], dtype=np.int64),
            "t": np.array(["é", "ab", "ngram "]),
            "b": np.array([True, False]),
        },
    )


def test_a_bundle_round_trips_with_its_arrays_and_header() -> None:
    codec = default_codecs().for_value(sample())
    assert codec.name == "arrays"
    back = codec.decode(codec.encode(sample()))
    assert back.meta == sample().meta
    assert set(back.arrays) == {"w", "k", "t", "b"}
    for name, array in sample().arrays.items():
        np.testing.assert_array_equal(back.arrays[name], array)
        assert back.arrays[name].dtype == array.dtype


def test_the_bytes_depend_only_on_the_content() -> None:
    reordered = ArrayBundle(
        dict(reversed(list(sample().meta.items()))), dict(reversed(list(sample().arrays.items())))
    )
    assert BundleCodec().encode(sample()) == BundleCodec().encode(reordered)


def test_object_arrays_are_refused_on_the_way_in() -> None:
    with pytest.raises(CodecError, match="dtype object"):
        BundleCodec().encode(ArrayBundle({}, {"o": np.array([object()], dtype=object)}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b"PICKLE" + b, "not an array bundle"),
        (lambda b: b[:40], "damaged array bundle"),
        (lambda b: b.replace(b'"<f8"', b'"|O8"'), "damaged array bundle"),
        (lambda b: b[: len(b) - 5], "damaged array bundle"),
    ],
)
def test_damaged_bytes_are_a_codec_error(damage: object, message: str) -> None:
    data = damage(BundleCodec().encode(sample()))  # type: ignore[operator]
    with pytest.raises(CodecError, match=message):
        BundleCodec().decode(data)
