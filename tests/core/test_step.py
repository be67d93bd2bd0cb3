from __future__ import annotations

import pandas as pd
import pytest

from assay import step
from assay.core import Step
from assay.errors import DefinitionError


def test_step_keeps_function_behaviour_outside_a_pipeline() -> None:
    @step
    def add(a: int, b: int = 2) -> int:
        return a + b

    assert isinstance(add, Step)
    assert add(1) == 3
    assert [p.name for p in add.params] == ["a", "b"]
    assert add.params[1].default == 2
    assert [o.name for o in add.outputs] == ["output"]


def test_missing_parameter_hint_is_refused_with_the_fix() -> None:
    with pytest.raises(DefinitionError, match=r"missing type hint for argument 'b'.*b: int"):

        @step
        def bad(a: int, b) -> int:  # type: ignore[no-untyped-def]
            return a


def test_missing_return_hint_is_refused() -> None:
    with pytest.raises(DefinitionError, match="missing return type hint"):

        @step
        def bad(a: int):  # type: ignore[no-untyped-def]
            return a


def test_var_args_are_refused() -> None:
    with pytest.raises(DefinitionError, match="named arguments"):

        @step
        def bad(*args: int) -> int:
            return 0


def test_multiple_outputs_need_a_matching_tuple() -> None:
    @step(outputs=["a", "b"])
    def two() -> tuple[int, str]:
        return 1, "x"

    assert [(o.name, o.annotation) for o in two.outputs] == [("a", int), ("b", str)]
    with pytest.raises(DefinitionError, match="declares 3 outputs"):

        @step(outputs=["a", "b", "c"])
        def wrong() -> tuple[int, int]:
            return 1, 2


def test_output_kinds_can_be_declared() -> None:
    @step(outputs={"frame": "dataset"})
    def make() -> pd.DataFrame:
        return pd.DataFrame()

    assert make.outputs[0].kind == "dataset"


def test_none_return_means_no_outputs() -> None:
    @step
    def side() -> None:
        return None

    assert side.outputs == ()


def test_fingerprint_changes_with_source_and_version() -> None:
    def f1(x: int) -> int:
        return x + 1

    def f2(x: int) -> int:
        return x + 2

    a, b = Step(f1), Step(f2)
    assert a.fingerprint != b.fingerprint
    assert Step(f1, version="2").fingerprint != a.fingerprint
    assert Step(f1).fingerprint == a.fingerprint


def test_hints_naming_type_checking_only_imports_still_give_the_shape() -> None:
    namespace: dict[str, object] = {}
    exec(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from assay import step\n"
        "if TYPE_CHECKING:\n"
        "    import heavy_library_not_installed as hl\n"
        "@step(outputs=['a', 'b'])\n"
        "def split(frame: hl.Frame, ratio: float = 0.5) -> tuple[hl.Frame, hl.Frame]:\n"
        "    return frame, frame\n",
        namespace,
    )
    made = namespace["split"]
    assert isinstance(made, Step)
    assert [o.name for o in made.outputs] == ["a", "b"]
    assert repr(made.params[0].annotation) == "hl.Frame"
    assert made.params[1].annotation is float
