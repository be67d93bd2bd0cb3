from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from assay.errors import CodecError
from assay.store import default_codecs
from assay.store.codecs import SkopsCodec


def round_trip(value: object) -> tuple[str, object]:
    codec = default_codecs().for_value(value)
    return codec.name, codec.decode(codec.encode(value))


def test_dataframes_go_through_parquet() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[10, 11])
    name, back = round_trip(frame)
    assert name == "parquet"
    pd.testing.assert_frame_equal(back, frame)  # type: ignore[arg-type]


def test_arrays_go_through_npy_without_pickle() -> None:
    name, back = round_trip(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert name == "numpy"
    np.testing.assert_array_equal(back, np.arange(6, dtype=np.float32).reshape(2, 3))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="no codec"):
        default_codecs().for_value(np.array([object()], dtype=object))


def test_json_values_keep_nan_and_inf() -> None:
    name, back = round_trip({"a": [1, 2.5, None, "s", True], "nan": math.nan, "inf": math.inf})
    assert name == "json"
    assert isinstance(back, dict)
    assert math.isnan(back["nan"]) and back["inf"] == math.inf
    assert back["a"] == [1, 2.5, None, "s", True]


def test_files_are_stored_as_their_bytes_and_loaded_as_a_path(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x01\x02")
    name, back = round_trip(path)
    assert name == "file"
    assert isinstance(back, Path)
    assert back.read_bytes() == b"\x01\x02"
    assert round_trip(path)[1] == back  # the same bytes land in the same place


def test_models_go_through_skops_and_predict_the_same() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    name, back = round_trip(model)
    assert name == "skops"
    np.testing.assert_array_equal(back.predict(x), model.predict(x))  # type: ignore[attr-defined]


def test_a_model_that_would_run_a_builtin_on_load_is_refused() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    evil = Pipeline([("f", FunctionTransformer(exec)), ("m", LogisticRegression())])
    data = SkopsCodec().encode(evil)
    with pytest.raises(CodecError, match="not trusted: builtins.exec"):
        SkopsCodec().decode(data)
    assert SkopsCodec(trusted_types={"builtins.exec"}).decode(data) is not None


def test_model_files_with_untrusted_types_are_refused() -> None:
    codec = SkopsCodec()
    data = codec.encode(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
    # LogisticRegression is trusted by skops itself; a foreign type is what must be refused.
    doctored = _replace_in_zip(data, b"sklearn.linear_model._logistic", b"evil.module.Payload.xx")
    with pytest.raises(CodecError, match="not trusted|not a readable"):
        codec.decode(doctored)


def test_garbage_is_not_a_model() -> None:
    with pytest.raises(CodecError, match="not a readable skops model"):
        SkopsCodec().decode(b"not a zip file")


def test_unknown_types_have_no_codec() -> None:
    with pytest.raises(CodecError, match="no codec can store a value of type object"):
        default_codecs().for_value(object())
    with pytest.raises(CodecError, match="no codec named 'nope'"):
        default_codecs().get("nope")


def _replace_in_zip(data: bytes, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item).replace(old, new))
    return out.getvalue()


def test_equal_models_get_equal_bytes_in_different_processes() -> None:
    import subprocess
    import sys

    code = (
        "from sklearn.feature_extraction.text import TfidfVectorizer\n"
        "from sklearn.linear_model import SGDClassifier\n"
        "from sklearn.pipeline import Pipeline\n"
        "from assay.core import sha256_hex\n"
        "from assay.store import default_codecs\n"
        "docs = ['alpha beta', 'beta gamma', 'gamma delta', 'delta eps']\n"
        "m = Pipeline([('t', TfidfVectorizer()), ('c', SGDClassifier(random_state=0))])\n"
        "m.fit(docs, [0, 1, 0, 1])\n"
        "print(sha256_hex(default_codecs().get('skops').encode(m)))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1
