"""Properties of every built-in guard over random documents, policies and port states.

No guard crashes; every refusal is explained by reasons from the catalogue in
both languages; malformed input is named; a failing port is named and changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import posflow
from posflow.errors import InvalidInput, PortUnavailable
from posflow.policy import DocumentsByType, Limits, LimitsByType
from posflow.ports import (
    AccountStatus,
    BlacklistEntry,
    Capability,
    Device,
    DeviceLocation,
    DeviceModel,
    Document,
    DocumentKind,
    FrozenClock,
    InMemoryDocumentVault,
    InMemoryHostLink,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemoryRiskRegistry,
    InMemorySettlementAccounts,
    Ports,
    RegionRule,
    SettlementAccount,
    Suspension,
)

CATALOGUE = posflow.default_catalogue()
GUARDS = posflow.default_guards()
LIFECYCLE = posflow.default_lifecycle()
MERCHANTS = ("M1", "M2")
SNS = ("SN1", "SN2", "SN3")
MODELS = ("P300", "Q1", "Z9")
REGIONS = ("310000", "110000")
CAUSES = ("cash_out", "fraud", "money_laundering", "relocation", "data_leakage")
PORT_NAMES = set(posflow.ports.PORT_NAMES)

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2028, 12, 31),
    timezones=st.just(dt.UTC),
)
days = st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2029, 12, 31))
versions = st.lists(st.integers(0, 12), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)
fen = st.integers(min_value=0, max_value=10**9)
kinds = st.sampled_from(list(DocumentKind))


@st.composite
def documents(draw: st.DrawFn) -> Document:
    issued = draw(st.none() | days)
    expires = draw(st.none() | days)
    if issued and expires and expires < issued:
        issued, expires = expires, issued
    return Document(
        draw(kinds), issued=issued, expires=expires, months=draw(st.none() | st.integers(0, 12))
    )


@st.composite
def policies(draw: st.DrawFn) -> posflow.Policy:
    def limits() -> Limits:
        per = draw(fen)
        return Limits(per_transaction=per, daily=per + draw(fen))

    substitutes = draw(
        st.frozensets(
            st.sampled_from(
                [
                    DocumentKind.LEASE_CONTRACT,
                    DocumentKind.UTILITY_BILLS,
                    DocumentKind.BANK_STATEMENT,
                ]
            ),
            min_size=1,
        )
    )
    causes = draw(st.frozensets(st.sampled_from(CAUSES), min_size=1))
    kinds_list = st.lists(kinds, max_size=4).map(tuple)
    return posflow.Policy(
        limits=LimitsByType(enterprise=limits(), individual=limits(), micro=limits()),
        review_documents=DocumentsByType(
            enterprise=draw(kinds_list), individual=draw(kinds_list), micro=draw(kinds_list)
        ),
        reapply_documents=DocumentsByType(enterprise=draw(kinds_list), micro=draw(kinds_list)),
        activation_documents=draw(kinds_list),
        closing_documents=draw(kinds_list),
        storefront_substitutes=substitutes,
        substitutes_required=draw(st.integers(1, len(substitutes))),
        utility_bill_months=draw(st.integers(1, 12)),
        substitute_max_age_days=draw(st.integers(1, 400)),
        cooling_off_days=draw(st.integers(0, 400)),
        min_firmware_version=draw(versions),
        min_software_version=draw(versions),
        min_credit_score=draw(st.integers(0, 900)),
        minimum_term_days=draw(st.integers(0, 1000)),
        early_termination_penalty=draw(fen),
        device_recovery_fee=draw(fen),
        suspension_causes=causes,
        fraud_causes=draw(st.frozensets(st.sampled_from(sorted(causes)))),
        served_regions=draw(st.none() | st.frozensets(st.sampled_from(REGIONS))),
        micro_merchant_code_limit=draw(st.integers(1, 5)),
    )


@st.composite
def port_states(draw: st.DrawFn) -> Ports:
    vault = InMemoryDocumentVault(
        {
            m: draw(st.lists(documents(), max_size=8))
            for m in draw(st.sets(st.sampled_from(MERCHANTS)))
        }
    )
    models = [
        DeviceModel(
            name,
            certifications=draw(st.sets(st.sampled_from(["unionpay", "sh-local"]))),
            capabilities=draw(st.sets(st.sampled_from(list(Capability)))),
            firmware=draw(versions),
            host_compatible=draw(st.booleans()),
        )
        for name in draw(st.sets(st.sampled_from(MODELS)))
    ]
    devices = [
        Device(
            sn,
            draw(st.sampled_from(MODELS)),
            location=draw(st.sampled_from(list(DeviceLocation))),
            terminal_id=draw(st.sampled_from([None, "T1", "T2"])),
            merchant_id=draw(st.sampled_from([None, *MERCHANTS])),
            firmware=draw(st.none() | versions),
        )
        for sn in draw(st.sets(st.sampled_from(SNS)))
    ]
    risk = InMemoryRiskRegistry(
        entries=[
            BlacklistEntry(subject, key)
            for subject, key in draw(
                st.sets(
                    st.tuples(
                        st.sampled_from(["merchant", "legal_rep"]),
                        st.sampled_from([*MERCHANTS, "110101199001011234"]),
                    )
                )
            )
        ],
        suspensions=[
            Suspension(m, c)
            for m, c in draw(
                st.lists(st.tuples(st.sampled_from(MERCHANTS), st.sampled_from(CAUSES)))
            )
        ],
        scores={m: draw(st.integers(0, 900)) for m in draw(st.sets(st.sampled_from(MERCHANTS)))},
        regions=[
            RegionRule(
                r,
                served=draw(st.booleans()),
                forbidden_models=draw(st.sets(st.sampled_from(MODELS))),
                required_certifications=draw(st.sets(st.sampled_from(["sh-local"]))),
            )
            for r in draw(st.sets(st.sampled_from(REGIONS)))
        ],
        merchant_codes={"110101199001011234": draw(st.integers(0, 5))},
    )
    accounts = InMemorySettlementAccounts(
        [
            SettlementAccount(
                m,
                draw(st.sampled_from(["6222020200112233445", "6222000011112222"])),
                status=draw(st.sampled_from(list(AccountStatus))),
                balance=draw(st.integers(-(10**7), 10**7)),
                open_complaints=draw(st.integers(0, 3)),
                unpaid_fees=draw(st.integers(0, 10**6)),
            )
            for m in draw(st.sets(st.sampled_from(MERCHANTS)))
        ]
    )
    start = draw(moments)
    host = InMemoryHostLink(
        reachable=draw(st.booleans()),
        maintenance=[(start, start + dt.timedelta(hours=draw(st.integers(1, 48))))]
        if draw(st.booleans())
        else [],
        cutover=draw(st.none() | st.just(("23:50", "00:10"))),
    )
    operators = InMemoryOperatorDirectory(cost=2)
    if draw(st.booleans()):
        operators.add("T1", "01", "0000")
    return Ports(
        documents=vault,
        inventory=InMemoryInventory(models, devices),
        risk=risk,
        accounts=accounts,
        host=host,
        operators=operators,
    )


iso = moments.map(dt.datetime.isoformat)
merchants = st.fixed_dictionaries(
    {"id": st.sampled_from(MERCHANTS)},
    optional={
        "type": st.sampled_from(["enterprise", "individual", "micro"]),
        "name": st.text(max_size=5),
        "contact_phone": st.just("13812345678"),
        "shop_address": st.text(max_size=5),
        "legal_rep_id_number": st.just("110101199001011234"),
        "credit_code": st.sampled_from([*MERCHANTS, "9131"]),
        "acquirer_code": st.just("48020000"),
        "merchant_code": st.just("898310000000001"),
        "settlement_account": st.sampled_from(["6222020200112233445", "6222000011112222"]),
        "region": st.sampled_from(REGIONS),
        "needs": st.lists(st.sampled_from(list(Capability))),
    },
)
terminal_data = st.fixed_dictionaries(
    {"merchant": merchants},
    optional={
        "model": st.sampled_from(MODELS),
        "sn": st.sampled_from(SNS),
        "shipped_sn": st.none() | st.sampled_from(SNS),
        "batch": st.fixed_dictionaries(
            {"no": st.integers(0, 9), "count": st.integers(0, 9), "total": fen, "max": fen}
        ),
        "daily": st.fixed_dictionaries({"day": days.map(dt.date.isoformat), "total": fen}),
        "pending_reversal": st.none() | st.fixed_dictionaries({"amount": fen}),
        "binding": st.fixed_dictionaries({"install_address": st.text(max_size=5)}),
        "master_key_injected": st.booleans(),
        "software_version": versions,
        "hardware_faults": st.lists(st.sampled_from(["keyboard", "touch_screen"])),
        "operator": st.just("01"),
        "activated_at": iso,
        "closed_at": iso,
        "suspensions": st.lists(st.sampled_from(CAUSES)),
        "penalty_paid": st.booleans(),
        "device_returned": st.booleans(),
    },
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.integers(-10, 10**8),
        "timed_out": st.booleans(),
        "sn": st.sampled_from(SNS),
        "model": st.sampled_from(MODELS),
        "operator": st.sampled_from(["01", "02"]),
        "password": st.sampled_from(["0000", "1111"]),
        "software_version": versions,
        "hardware_faults": st.lists(st.sampled_from(["keyboard"])),
        "cause": st.sampled_from([*CAUSES, "boredom"]),
        "address": st.text(max_size=5),
        "install_address": st.text(max_size=5),
        "condition": st.sampled_from(["good", "damaged"]),
        "penalty_paid": st.booleans(),
        "device_returned": st.booleans(),
        "recovery_fee_charged": st.booleans(),
    },
)
junk = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
)
junk_data = st.dictionaries(
    st.sampled_from(
        [
            "merchant",
            "batch",
            "daily",
            "pending_reversal",
            "binding",
            "sn",
            "model",
            "activated_at",
            "closed_at",
            "suspensions",
            "hardware_faults",
            "software_version",
            "device_returned",
        ]
    ),
    junk,
)
junk_payload = st.dictionaries(
    st.sampled_from(
        [
            "amount",
            "sn",
            "model",
            "operator",
            "password",
            "software_version",
            "hardware_faults",
            "cause",
            "address",
            "install_address",
            "condition",
            "penalty_paid",
            "merchant",
        ]
    ),
    junk,
)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _assert_explained(reasons: tuple[posflow.Reason, ...]) -> None:
    for reason in reasons:
        spec = CATALOGUE[reason.code]
        assert reason.category is spec.category
        evidence = set(reason.params) | ({"guard"} if reason.guard else set())
        for template in (spec.en, spec.zh_cn, spec.remedy_en, spec.remedy_zh_cn):
            assert _fields(template) <= evidence, (reason.code, template)
        for lang in posflow.LANGUAGES:
            assert reason.message(lang)
            assert reason.remedy(lang)
        if reason.code == "guard.invalid_input":
            assert reason.params["field"]
        if reason.code == "port.unavailable":
            assert reason.retryable


class TestEveryGuard:
    @given(policies(), port_states(), terminal_data, payloads, moments)
    def test_no_guard_crashes_and_every_reason_is_in_the_catalogue(
        self,
        policy: posflow.Policy,
        ports: Ports,
        data: dict[str, Any],
        payload: dict[str, Any],
        now: dt.datetime,
    ) -> None:
        ctx = posflow.Context(payload, clock=FrozenClock(now), ports=ports, policy=policy)
        t = posflow.Terminal("T1", "applied", 0, data)
        for name, g in GUARDS.items():
            failure: Exception | None = None
            try:
                reasons = tuple(g(t, ctx) or ())
            except (InvalidInput, PortUnavailable) as exc:
                failure, reasons = exc, ()
            if isinstance(failure, InvalidInput):
                assert failure.field, name
            if isinstance(failure, PortUnavailable):
                assert failure.port in PORT_NAMES, name
            _assert_explained(reasons)

    @given(port_states(), junk_data, junk_payload)
    def test_malformed_data_and_payloads_refuse_with_the_field_named(
        self, ports: Ports, data: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        ctx = posflow.Context(payload, ports=ports)
        t = posflow.Terminal("T1", "applied", 0, data)
        for name, g in GUARDS.items():
            reasons = posflow.guards.run_guard(name, g, t, ctx)
            assert "guard.error" not in {r.code for r in reasons}, name
            _assert_explained(reasons)


class _Failing:
    def __init__(self, error: type[Exception]) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error("boom")

        return fail


class TestTheDefaultLifecycle:
    @given(
        policies(),
        port_states(),
        terminal_data,
        payloads,
        st.sampled_from(LIFECYCLE.states),
        st.sampled_from(LIFECYCLE.events),
    )
    def test_no_refusal_goes_unexplained(
        self,
        policy: posflow.Policy,
        ports: Ports,
        data: dict[str, Any],
        payload: dict[str, Any],
        state: str,
        event: str,
    ) -> None:
        ctx = posflow.Context(payload, ports=ports, policy=policy)
        t = posflow.Terminal("T1", state, 3, data)
        outcome = LIFECYCLE.fire(t, event, ctx)
        if outcome.ok:
            assert outcome.terminal.version == 4
        else:
            assert outcome.reasons
            assert outcome.terminal is t
            _assert_explained(outcome.reasons)

    @given(
        st.sampled_from(sorted(PORT_NAMES)),
        st.sampled_from(
            [ValueError, KeyError, RuntimeError, TimeoutError, OSError, ZeroDivisionError]
        ),
        terminal_data,
        payloads,
        st.sampled_from(LIFECYCLE.states),
        st.sampled_from(LIFECYCLE.events),
    )
    def test_a_failing_port_is_named_and_changes_nothing(
        self,
        port: str,
        error: type[Exception],
        data: dict[str, Any],
        payload: dict[str, Any],
        state: str,
        event: str,
    ) -> None:
        ctx = posflow.Context(payload, ports=Ports(**{port: _Failing(error)}))
        t = posflow.Terminal("T1", state, 3, data)
        outcome = LIFECYCLE.fire(t, event, ctx)
        _assert_explained(outcome.reasons)
        assert {r.params["port"] for r in outcome.reasons if r.code == "port.unavailable"} <= {port}
        if any(r.code == "port.unavailable" for r in outcome.reasons):
            assert outcome.terminal is t
        assert "guard.error" not in outcome.codes

    @given(
        port_states(),
        junk_data,
        junk_payload,
        st.sampled_from(LIFECYCLE.states),
        st.sampled_from(LIFECYCLE.events),
    )
    def test_malformed_data_never_crashes_fire_and_the_field_is_named(
        self,
        ports: Ports,
        data: dict[str, Any],
        payload: dict[str, Any],
        state: str,
        event: str,
    ) -> None:
        ctx = posflow.Context(payload, ports=ports)
        t = posflow.Terminal("T1", state, 3, data)
        outcome = LIFECYCLE.fire(t, event, ctx)
        _assert_explained(outcome.reasons)
        # malformed data is named, never a retryable guard.error (effects included)
        assert "guard.error" not in outcome.codes
        for reason in outcome.reasons:
            if reason.code == "guard.invalid_input":
                assert isinstance(reason.error, InvalidInput), reason.error
                assert not reason.retryable
