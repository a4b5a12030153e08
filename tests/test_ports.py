"""The ports: value classes, in-memory implementations and the shielding container."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

import posflow
from posflow.errors import InvalidInput, PortUnavailable
from posflow.ports import (
    AccountStatus,
    BlacklistEntry,
    Capability,
    Device,
    DeviceLocation,
    DeviceModel,
    Document,
    DocumentKind,
    DocumentVault,
    HostWindow,
    InMemoryDocumentVault,
    InMemoryHostLink,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemoryRiskRegistry,
    InMemorySettlementAccounts,
    OperatorCheck,
    Ports,
    RegionRule,
    SettlementAccount,
    Subject,
    Suspension,
    WindowKind,
    unshielded,
)

DAY = dt.date(2026, 3, 2)


class TestDocument:
    def test_a_document_is_valid_from_its_issue_date_through_its_expiry_date(self) -> None:
        doc = Document("id_card_front", issued=DAY, expires=DAY + dt.timedelta(days=10))
        assert not doc.valid_on(DAY - dt.timedelta(days=1))
        assert doc.valid_on(DAY)
        assert doc.valid_on(DAY + dt.timedelta(days=10))
        assert not doc.valid_on(DAY + dt.timedelta(days=11))
        assert doc.expired_on(DAY + dt.timedelta(days=11))

    def test_kind_and_dates_are_read_from_strings(self) -> None:
        doc = Document("lease_contract", issued="2026-01-01", expires=dt.datetime(2027, 1, 1, 8))
        assert doc.kind is DocumentKind.LEASE_CONTRACT
        assert (doc.issued, doc.expires) == (dt.date(2026, 1, 1), dt.date(2027, 1, 1))

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"kind": "passport_photo"}, "document.kind"),
            ({"kind": "id_card_back", "issued": "yesterday"}, "document.issued"),
            ({"kind": "id_card_back", "expires": 20260101}, "document.expires"),
            ({"kind": "utility_bills", "months": -1}, "document.months"),
            (
                {"kind": "id_card_back", "issued": DAY, "expires": DAY - dt.timedelta(1)},
                "document.expires",
            ),
        ],
    )
    def test_a_malformed_document_raises_invalid_input_naming_the_field(
        self, kwargs: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as err:
            Document(**kwargs)
        assert err.value.field == field


class TestInMemoryDocumentVault:
    def test_documents_are_filed_and_withdrawn_per_merchant(self) -> None:
        vault = InMemoryDocumentVault({"M1": [Document("id_card_front")]})
        vault.add("M1", Document("id_card_front"), Document("id_card_back"))
        assert [d.kind.value for d in vault.documents("M1")] == [
            "id_card_front",
            "id_card_front",
            "id_card_back",
        ]
        assert vault.remove("M1", "id_card_front") == 2
        assert vault.documents("M2") == ()
        assert isinstance(vault, DocumentVault)
        assert "1 documents" in repr(vault)

    @pytest.mark.parametrize(
        ("merchant", "says"), [("", "got an empty one"), ("  ", "got an empty one"), (5, "got int")]
    )
    def test_a_merchant_id_that_is_not_text_says_what_it_got(
        self, merchant: Any, says: str
    ) -> None:
        with pytest.raises(InvalidInput, match=says):
            InMemoryDocumentVault().add(merchant, Document("id_card_front"))

    def test_filing_something_that_is_not_a_document_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            InMemoryDocumentVault().add("M1", "licence")  # type: ignore[arg-type]


class TestInMemoryInventory:
    def test_available_counts_free_devices_of_the_model_in_the_warehouse(self) -> None:
        inventory = InMemoryInventory(
            [DeviceModel("P300")],
            [
                Device("A", "P300"),
                Device("B", "P300", terminal_id="T9"),
                Device("C", "P300", location="in_transit"),
                Device("D", "X9"),
            ],
        )
        assert inventory.available("P300") == 1
        assert inventory.model("P300") is not None
        assert inventory.model("nope") is None

    def test_a_model_accepts_card_qr_and_nfc_unless_told_otherwise(self) -> None:
        assert DeviceModel("P300").capabilities == frozenset(Capability)
        assert DeviceModel("Q1", capabilities=["qr"]).capabilities == {Capability.QR}

    def test_devices_are_updated_and_removed_by_sn(self) -> None:
        inventory = InMemoryInventory(devices=[Device("A", "P300")])
        moved = inventory.update_device("A", location=DeviceLocation.DEPLOYED, merchant_id="M1")
        assert (moved.location, moved.merchant_id, moved.free) == ("deployed", "M1", False)
        inventory.remove_device("A")
        assert inventory.device("A") is None

    def test_a_duplicate_sn_cannot_be_registered(self) -> None:
        inventory = InMemoryInventory(devices=[Device("A", "P300")])
        with pytest.raises(InvalidInput, match="already registered"):
            inventory.add_device(Device("A", "P300"))

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (lambda inv: inv.update_device("nope", location="lost"), "device.sn"),
            (lambda inv: inv.update_device("A", colour="red"), "device"),
            (lambda inv: inv.add_model("P300"), "[0]"),
            (lambda inv: inv.add_device(Device("B", "P300", firmware="v2")), "version"),
            (
                lambda inv: inv.add_model(DeviceModel("Q", capabilities=["magstripe"])),
                "model.capabilities[]",
            ),
            (lambda inv: inv.add_model(DeviceModel("Q", capabilities="qr")), "model.capabilities"),
        ],
    )
    def test_bad_changes_raise_invalid_input_naming_the_field(self, call: Any, field: str) -> None:
        inventory = InMemoryInventory(devices=[Device("A", "P300")])
        with pytest.raises(InvalidInput) as err:
            call(inventory)
        assert err.value.field == field


class TestInMemoryRiskRegistry:
    def test_it_answers_every_question_of_the_port(self) -> None:
        risk = InMemoryRiskRegistry(
            entries=[BlacklistEntry("legal_rep", "110101199001011234", reason="fraud ring")],
            suspensions=[Suspension("M1", "fraud", on="2025-01-01")],
            scores={"M1": 580},
            regions=[RegionRule("540000", served=False)],
            merchant_codes={"110101199001011234": 2},
        )
        entry = risk.blacklist_entry(Subject.LEGAL_REP, "110101199001011234")
        assert entry is not None
        assert entry.reason == "fraud ring"
        assert "110101199001011234" not in repr(entry)
        assert risk.blacklist_entry(Subject.MERCHANT, "110101199001011234") is None
        assert [s.cause for s in risk.suspensions("M1")] == ["fraud"]
        assert risk.score("M1") == 580
        assert risk.score("M2") is None
        rule = risk.region_rule("540000")
        assert rule is not None
        assert not rule.served
        assert risk.merchant_codes_held("110101199001011234") == 2
        assert risk.merchant_codes_held("other") == 0

    def test_entries_and_scores_can_be_removed(self) -> None:
        risk = InMemoryRiskRegistry(entries=[BlacklistEntry("merchant", "M1")], scores={"M1": 1})
        risk.delist("merchant", "M1")
        risk.set_score("M1", None)
        assert risk.blacklist_entry(Subject.MERCHANT, "M1") is None
        assert risk.score("M1") is None
        assert "0 listed" in repr(risk)

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (lambda r: r.blacklist("M1"), "[0]"),
            (lambda r: r.record_suspension("fraud"), "[0]"),
            (lambda r: r.set_region("310000"), "[0]"),
            (lambda r: r.set_score("M1", 7.5), "score"),
            (lambda r: r.set_merchant_codes("110", -1), "merchant_codes"),
            (lambda r: r.blacklist(BlacklistEntry("shop", "M1")), "entry.subject"),
        ],
    )
    def test_bad_records_raise_invalid_input_naming_the_field(self, call: Any, field: str) -> None:
        with pytest.raises(InvalidInput) as err:
            call(InMemoryRiskRegistry())
        assert err.value.field == field


class TestInMemorySettlementAccounts:
    def test_accounts_are_kept_per_merchant_and_updated(self) -> None:
        accounts = InMemorySettlementAccounts([SettlementAccount("M1", "6222020200112233445")])
        frozen = accounts.update("M1", status="frozen", balance=-500)
        assert (frozen.status, frozen.balance) == (AccountStatus.FROZEN, -500)
        assert accounts.account("M2") is None

    def test_the_account_number_never_shows_in_a_repr(self) -> None:
        account = SettlementAccount("M1", "6222020200112233445")
        assert "6222020200112233445" not in repr(account)
        assert "3445" in repr(account)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"balance": 10.5}, "account.balance"),
            ({"unpaid_fees": -1}, "account.unpaid_fees"),
            ({"open_complaints": True}, "account.open_complaints"),
            ({"status": "dormant"}, "account.status"),
        ],
    )
    def test_money_must_be_integer_fen_and_status_known(
        self, kwargs: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as err:
            SettlementAccount("M1", "622202", **kwargs)
        assert err.value.field == field

    def test_updating_an_unknown_merchant_or_field_is_refused(self) -> None:
        accounts = InMemorySettlementAccounts([SettlementAccount("M1", "622202")])
        with pytest.raises(InvalidInput):
            accounts.update("M2", status="frozen")
        with pytest.raises(InvalidInput):
            accounts.update("M1", colour="red")
        with pytest.raises(InvalidInput):
            accounts.add("M1")  # type: ignore[arg-type]


class TestInMemoryHostLink:
    def test_the_host_can_be_down_for_everyone_or_for_one_terminal(self) -> None:
        host = InMemoryHostLink()
        host.cut_off("T1")
        assert (host.reachable("T1"), host.reachable("T2")) == (False, True)
        host.cut_off("T1", reachable=True)
        assert host.reachable("T1")
        host.up = False
        assert not host.reachable("T2")

    def test_a_maintenance_window_covers_its_start_but_not_its_end(self) -> None:
        start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
        host = InMemoryHostLink(maintenance=[(start, start + dt.timedelta(hours=2))])
        window = host.window_at(start)
        assert window is not None
        assert window.kind is WindowKind.MAINTENANCE
        assert host.window_at(start + dt.timedelta(hours=2)) is None

    def test_a_cutover_window_may_run_over_midnight(self) -> None:
        host = InMemoryHostLink(cutover=("23:50", "00:10"))
        before = host.window_at(dt.datetime(2026, 3, 2, 23, 55, tzinfo=dt.UTC))
        after = host.window_at(dt.datetime(2026, 3, 3, 0, 5))
        assert before is not None
        assert after is not None
        assert before.end == after.end == dt.datetime(2026, 3, 3, 0, 10, tzinfo=dt.UTC)
        assert host.window_at(dt.datetime(2026, 3, 3, 0, 10, tzinfo=dt.UTC)) is None
        host.set_cutover(None)
        assert host.window_at(dt.datetime(2026, 3, 2, 23, 55, tzinfo=dt.UTC)) is None

    def test_a_same_day_cutover_window_is_found(self) -> None:
        host = InMemoryHostLink(cutover=(dt.time(0, 0), dt.time(0, 30)))
        assert host.window_at(dt.datetime(2026, 3, 2, 0, 15, tzinfo=dt.UTC)) is not None

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (lambda h: h.set_cutover("25:00", "01:00"), "cutover.start"),
            (lambda h: h.set_cutover("01:00", "01:00"), "cutover.end"),
            (lambda h: h.add_maintenance("soon", "later"), "window.start"),
            (
                lambda h: h.add_maintenance(dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 1)),
                "window.end",
            ),
        ],
    )
    def test_bad_windows_raise_invalid_input_naming_the_field(self, call: Any, field: str) -> None:
        with pytest.raises(InvalidInput) as err:
            call(InMemoryHostLink())
        assert err.value.field == field

    def test_windows_compare_their_kind(self) -> None:
        start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
        window = HostWindow("cutover", start, start + dt.timedelta(minutes=5))
        assert window.kind is WindowKind.CUTOVER
        assert window.covers(start)


class TestInMemoryOperatorDirectory:
    def test_it_tells_right_wrong_and_unknown_apart(self) -> None:
        ops = InMemoryOperatorDirectory(cost=2**4)
        ops.add("T1", "01", "s3cret")
        assert ops.verify("T1", "01", "s3cret") is OperatorCheck.OK
        assert ops.verify("T1", "01", "guess") is OperatorCheck.WRONG_PASSWORD
        assert ops.verify("T1", "02", "s3cret") is OperatorCheck.UNKNOWN_OPERATOR
        assert ops.verify("T2", "01", "s3cret") is OperatorCheck.UNKNOWN_OPERATOR
        assert ops.operators("T1") == ("01",)
        ops.remove("T1", "01")
        assert ops.operators("T1") == ()

    def test_passwords_are_kept_only_as_salted_scrypt_hashes(self) -> None:
        ops = InMemoryOperatorDirectory(cost=2**4)
        ops.add("T1", "01", "s3cret")
        ops.add("T1", "02", "s3cret")
        one, two = ops._operators[("T1", "01")], ops._operators[("T1", "02")]
        assert one.salt != two.salt
        assert one.digest != two.digest
        expected = hashlib.scrypt(b"s3cret", salt=one.salt, n=2**4, r=8, p=1, dklen=32)
        assert one.digest == expected
        assert "s3cret" not in repr(ops) + repr(one)

    def test_the_default_cost_is_production_strength(self) -> None:
        assert InMemoryOperatorDirectory()._cost >= 2**14

    @pytest.mark.parametrize("cost", [0, 3, 1.5, True])
    def test_a_cost_that_is_not_a_power_of_two_is_refused(self, cost: Any) -> None:
        with pytest.raises(InvalidInput):
            InMemoryOperatorDirectory(cost=cost)

    def test_an_empty_password_cannot_be_set(self) -> None:
        with pytest.raises(InvalidInput):
            InMemoryOperatorDirectory(cost=2).add("T1", "01", "")


class _Broken:
    """A user's port whose every method raises something arbitrary."""

    calls = 0

    def documents(self, merchant_id: str) -> list[Document]:
        raise KeyError(merchant_id)

    def reachable(self, terminal_id: str) -> bool:
        _Broken.calls += 1
        raise RuntimeError("socket closed")

    @property
    def status(self) -> str:
        raise OSError("no route")


class TestPorts:
    def test_each_port_defaults_to_an_empty_in_memory_implementation(self) -> None:
        ports = Ports()
        assert isinstance(ports.documents, InMemoryDocumentVault)
        assert isinstance(ports.operators, InMemoryOperatorDirectory)
        assert Ports().documents is not ports.documents
        assert dict(ports.extra) == {}

    def test_a_failing_user_port_is_reported_as_unavailable_by_name(self) -> None:
        ports = Ports(documents=_Broken(), host=_Broken())  # type: ignore[arg-type]
        with pytest.raises(PortUnavailable) as err:
            ports.documents.documents("M1")
        assert err.value.port == "documents"
        assert isinstance(err.value.__cause__, KeyError)
        with pytest.raises(PortUnavailable) as err:
            ports.host.reachable("T1")
        assert err.value.port == "host"

    def test_a_failing_property_is_reported_by_name_too(self) -> None:
        ports = Ports(extra={"crm": _Broken()})
        with pytest.raises(PortUnavailable) as err:
            _ = ports.extra["crm"].status
        assert err.value.port == "crm"

    def test_a_port_unavailable_raised_by_the_port_itself_keeps_its_own_name(self) -> None:
        class Named:
            def documents(self, merchant_id: str) -> list[Document]:
                raise PortUnavailable("dms", "maintenance")

        with pytest.raises(PortUnavailable) as err:
            Ports(documents=Named()).documents.documents("M1")  # type: ignore[arg-type]
        assert err.value.port == "dms"

    def test_missing_attributes_stay_attribute_errors(self) -> None:
        shielded = Ports(documents=_Broken()).documents  # type: ignore[arg-type]
        assert not hasattr(shielded, "nothing_here")

    def test_a_shielded_port_passes_attribute_writes_and_calls_through(self) -> None:
        class Counter:
            n = 0

            def __call__(self, x: int) -> int:
                return x + 1

        counter = Counter()
        ports = Ports(extra={"counter": counter, "limit": 5})
        ports.extra["counter"].n = 3
        assert counter.n == 3
        assert ports.extra["counter"](1) == 2
        assert ports.extra["limit"] == 5
        assert unshielded(ports.extra["counter"]) is counter
        assert unshielded(counter) is counter
        assert repr(ports.extra["counter"]) == repr(counter)

    def test_a_subclass_of_an_in_memory_port_is_shielded(self) -> None:
        class Flaky(InMemoryHostLink):
            def reachable(self, terminal_id: str) -> bool:
                raise TimeoutError

        with pytest.raises(PortUnavailable) as err:
            Ports(host=Flaky()).host.reachable("T1")
        assert err.value.port == "host"

    def test_a_class_marked_as_posflow_s_own_is_not_shielded_but_its_subclasses_are(self) -> None:
        class Own:
            _posflow_trusted = True

            def reachable(self, terminal_id: str) -> bool:
                raise TimeoutError

        class Derived(Own):
            pass

        own = Own()
        assert Ports(host=own).host is own  # type: ignore[arg-type]
        with pytest.raises(TimeoutError):
            Ports(host=own).host.reachable("T1")  # type: ignore[arg-type]
        with pytest.raises(PortUnavailable) as err:
            Ports(host=Derived()).host.reachable("T1")  # type: ignore[arg-type]
        assert err.value.port == "host"

    def test_replace_swaps_one_port_and_shares_the_rest(self) -> None:
        ports = Ports()
        host = InMemoryHostLink(reachable=False)
        changed = ports.replace(host=host)
        assert changed.host is host
        assert changed.documents is ports.documents

    def test_a_refusal_from_a_broken_port_names_it_and_changes_nothing(self) -> None:
        lc = posflow.default_lifecycle()
        t = lc.new_terminal("T1", {"merchant": {"id": "M1"}}).with_data(master_key_injected=True)
        t = posflow.Terminal(t.id, "activated", 4, t.data)
        ctx = posflow.Context(ports=Ports(host=_Broken()))  # type: ignore[arg-type]
        outcome = lc.fire(t, "sign_in", ctx)
        unavailable = [r for r in outcome.reasons if r.code == "port.unavailable"]
        assert [r.params["port"] for r in unavailable] == ["host"]
        assert unavailable[0].retryable
        assert outcome.terminal is t
