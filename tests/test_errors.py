"""``posflow.errors``: one tree, structured fields, readable messages."""

from __future__ import annotations

import re

import pytest

from posflow import errors
from posflow.errors import (
    ConcurrencyConflict,
    CorruptRecord,
    DefinitionError,
    DefinitionProblem,
    InvalidDefinition,
    InvalidInput,
    InvalidPolicy,
    PortUnavailable,
    PosflowError,
    ReplayError,
    RuntimeFailure,
    SchemaMismatch,
    StoreError,
    TerminalExists,
    TerminalNotFound,
    TransitionBlocked,
    UnknownGuard,
    UnknownReasonCode,
)

EXCEPTIONS = [getattr(errors, n) for n in errors.__all__ if n != "DefinitionProblem"]


class TestTree:
    def test_every_exception_descends_from_posflow_error(self) -> None:
        for exc in EXCEPTIONS:
            assert issubclass(exc, PosflowError), exc

    @pytest.mark.parametrize(
        ("exc", "parents"),
        [
            (InvalidDefinition, (DefinitionError, ValueError)),
            (UnknownGuard, (DefinitionError, LookupError)),
            (InvalidPolicy, (DefinitionError, ValueError)),
            (TransitionBlocked, (RuntimeFailure,)),
            (InvalidInput, (RuntimeFailure, ValueError)),
            (UnknownReasonCode, (RuntimeFailure, LookupError)),
            (PortUnavailable, (RuntimeFailure,)),
            (ReplayError, (RuntimeFailure, ValueError)),
            (StoreError, (RuntimeFailure,)),
            (TerminalNotFound, (StoreError, LookupError)),
            (TerminalExists, (StoreError, ValueError)),
            (ConcurrencyConflict, (StoreError,)),
            (CorruptRecord, (StoreError, ValueError)),
            (SchemaMismatch, (StoreError,)),
        ],
    )
    def test_each_error_sits_where_the_tree_says(
        self, exc: type[Exception], parents: tuple[type[Exception], ...]
    ) -> None:
        for parent in parents:
            assert issubclass(exc, parent)

    def test_definition_and_runtime_errors_are_apart(self) -> None:
        assert not issubclass(DefinitionError, RuntimeFailure)
        assert not issubclass(RuntimeFailure, DefinitionError)

    def test_the_module_docstring_draws_every_exception(self) -> None:
        doc = errors.__doc__ or ""
        for exc in EXCEPTIONS:
            assert exc.__name__ in doc, f"{exc.__name__} is missing from the tree in the docstring"

    def test_every_exception_is_documented(self) -> None:
        for exc in EXCEPTIONS:
            assert (exc.__doc__ or "").strip(), exc


class TestStructuredFields:
    def test_invalid_definition_lists_its_problems_and_kinds(self) -> None:
        problems = [
            DefinitionProblem("states", "none", "empty_definition"),
            DefinitionProblem("initial", "unknown", "unknown_state"),
        ]
        error = InvalidDefinition(problems)
        assert error.problems == tuple(problems)
        assert error.kinds == {"empty_definition", "unknown_state"}
        assert error.source is None
        assert str(error) == (
            "invalid lifecycle definition (2 problem(s)):\n  - states: none\n  - initial: unknown"
        )

    def test_invalid_policy_names_each_field(self) -> None:
        error = InvalidPolicy(
            [DefinitionProblem("limits.daily", "negative", "malformed")], source="p.yaml"
        )
        assert error.source == "p.yaml"
        assert str(error) == "invalid policy in p.yaml (1 problem(s)):\n  - limits.daily: negative"
        assert str(InvalidPolicy([])).startswith("invalid policy (0 problem(s))")

    def test_unknown_guard(self) -> None:
        error = UnknownGuard("docs.x", known=["a.b"])
        assert (error.name, error.known, str(error)) == (
            "docs.x",
            ("a.b",),
            "unknown guard 'docs.x'",
        )

    def test_invalid_input_names_its_field_when_it_can(self) -> None:
        assert str(InvalidInput("must be positive", field="payload.amount")) == (
            "payload.amount: must be positive"
        )
        assert str(InvalidInput("bad")) == "bad"
        assert InvalidInput("bad").field is None

    def test_unknown_reason_code(self) -> None:
        error = UnknownReasonCode("stock.x")
        assert (error.code, str(error)) == (
            "stock.x",
            "reason code 'stock.x' is not in the catalogue",
        )

    def test_port_unavailable(self) -> None:
        assert str(PortUnavailable("host")) == "port 'host' unavailable"
        error = PortUnavailable("host", "timeout after 3s")
        assert (error.port, error.detail) == ("host", "timeout after 3s")
        assert str(error) == "port 'host' unavailable: timeout after 3s"

    def test_replay_error(self) -> None:
        error = ReplayError("bad", index=3, terminal_id="T")
        assert (error.index, error.terminal_id, str(error)) == (3, "T", "record 3: bad")

    def test_store_errors(self) -> None:
        assert TerminalNotFound("T").terminal_id == "T"
        assert str(TerminalNotFound("T")) == "no terminal with id 'T'"
        assert str(TerminalExists("T")) == "a terminal with id 'T' already exists"
        conflict = ConcurrencyConflict(terminal_id="T", expected_version=4)
        assert (conflict.terminal_id, conflict.expected_version) == ("T", 4)
        assert str(conflict) == "terminal 'T' changed after version 4 was read"
        corrupt = CorruptRecord("bad row", terminal_id="T")
        assert (corrupt.terminal_id, str(corrupt)) == ("T", "bad row")

    @pytest.mark.parametrize(
        ("found", "expected", "says"),
        [
            (
                None,
                2,
                "no posflow schema in the database (version 2 expected); "
                "run `store.create_schema()` first",
            ),
            (1, 2, "database schema version 1 found, 2 expected; run `store.upgrade_schema()`"),
            (3, 2, "database schema version 3 is newer than this posflow (2)"),
        ],
    )
    def test_schema_mismatch_says_which_way_it_is_off(
        self, found: int | None, expected: int, says: str
    ) -> None:
        error = SchemaMismatch(found=found, expected=expected)
        assert (error.found, error.expected) == (found, expected)
        assert says in str(error)

    @pytest.mark.parametrize("found", [None, 1, 3])
    def test_schema_mismatch_names_only_remedies_that_exist(self, found: int | None) -> None:
        from posflow.store import SQLStore

        text = str(SchemaMismatch(found=found, expected=2))
        assert "posflow db" not in text
        for method in re.findall(r"`store\.(\w+)\(\)`", text):
            assert callable(getattr(SQLStore, method))

    def test_structured_fields_are_keyword_only(self) -> None:
        with pytest.raises(TypeError):
            TransitionBlocked("T", "go", "a", ())  # type: ignore[misc]
        with pytest.raises(TypeError):
            ConcurrencyConflict("T", 1)  # type: ignore[misc]
