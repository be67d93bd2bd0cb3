from __future__ import annotations

import inspect

import assay.errors as errors


def test_every_error_derives_from_assay_error_and_says_when_it_is_raised() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    assert set(errors.__all__) == {c.__name__ for c in classes}
    for cls in classes:
        assert issubclass(cls, errors.AssayError)
        assert cls.__doc__ and cls.__doc__.startswith("Raised"), cls
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the tree"


def test_message_and_hint_render_on_one_line() -> None:
    err = errors.ParameterError("bad value", hint="use a number")
    assert str(err) == "bad value (use a number)"
    assert err.exit_code == 2 and errors.StepFailedError("x", step="s", run_id="r").exit_code == 1
