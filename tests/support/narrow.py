"""The check every consumer's narrow decode models (its messages.py) answer to: each keeps its
contract's fields but the ones it lists as left out, each declared as the contract declares it,
so a field added to a contract stays out of a consumer until someone decides it belongs there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def assert_leaves_out_only(
    narrow: type[BaseModel],
    contract: type[BaseModel],
    left_out: frozenset[str],
    narrowed: Mapping[str, Any],
) -> None:
    """`narrowed` names the fields holding a narrow model in the contract's model's place."""
    assert set(narrow.model_fields) | left_out == set(contract.model_fields)
    assert not set(narrow.model_fields) & left_out
    for name, field in narrow.model_fields.items():
        expected = contract.model_fields[name]
        assert field.is_required() == expected.is_required(), name
        if field.annotation != expected.annotation:  # a narrow model in the contract's place
            assert field.annotation == narrowed[name], name
        else:
            assert field.metadata == expected.metadata, name  # the same constraints
            assert field.get_default(call_default_factory=True) == expected.get_default(
                call_default_factory=True
            ), name
