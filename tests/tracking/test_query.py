from __future__ import annotations

import pytest

from assay.errors import ParameterError
from assay.metadata.search import All, AnyOf, Condition, Order
from assay.tracking import parse_order, parse_where


def test_conditions_with_and_or_and_parentheses() -> None:
    parsed = parse_where(
        "metrics.macro_f1 > 0.8 and (params.C = 1 or tags.stage == 'prod') OR status != failed"
    )
    assert parsed == AnyOf(
        (
            All(
                (
                    Condition("metrics", "macro_f1", ">", 0.8),
                    AnyOf(
                        (
                            Condition("params", "C", "=", 1),
                            Condition("tags", "stage", "=", "prod"),
                        )
                    ),
                )
            ),
            Condition("attributes", "status", "!=", "failed"),
        )
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("params.x = 1", 1),
        ("params.x = 1.5", 1.5),
        ("params.x = -2e-3", -0.002),
        ('params.x = "two words"', "two words"),
        ("params.x = lbfgs", "lbfgs"),
        ("params.x = true", True),
        ("param.x like 'lb%'", "lb%"),
    ],
)
def test_values(text: str, value: object) -> None:
    parsed = parse_where(text)
    assert isinstance(parsed, Condition)
    assert parsed.value == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("metrics.f1 >", "ends too early"),
        ("metrics.f1 > 0.8 and", "ends too early"),
        ("f1 > 0.8", "unknown field 'f1'"),
        ("metrics.f1 ~ 0.8", "cannot read '~ 0.8'"),
        ("metrics.f1 0.8", "expected =, !=, <, <=, >, >= or like"),
        ("(metrics.f1 > 0.8", "never closed"),
        ("metrics.f1 > 0.8)", "unexpected ')'"),
        ("attributes.color = red", "no attribute 'color'"),
        ("> 1", "expected a field name"),
    ],
)
def test_bad_filters_say_where_and_why(text: str, problem: str) -> None:
    with pytest.raises(ParameterError, match="bad filter at character") as info:
        parse_where(text)
    assert problem in str(info.value)


def test_orders() -> None:
    assert parse_order("-metrics.macro_f1, params.C,+started_at") == [
        Order("metrics", "macro_f1", True),
        Order("params", "C", False),
        Order("attributes", "started_at", False),
    ]
    with pytest.raises(ParameterError, match="unknown field 'nope'"):
        parse_order("nope")
