"""posflow embedded in a FastAPI service, on the SQL store.

A terminal-management service keeps its terminals in SQLite (or PostgreSQL: only
the URL changes) and exposes them over HTTP:

- ``POST /terminals``: create a terminal for a merchant (409 if the id is taken);
- ``GET /terminals/{id}``: its state and version;
- ``POST /terminals/{id}/events/{event}``: fire an event; an ``Idempotency-Key``
  header makes a retried request safe. 200 when accepted, 409 with the reasons
  when refused, 404 for an unknown terminal, 422 for input posflow cannot take;
- ``GET /terminals/{id}/explain``: what may happen next, and why not;
- ``GET /terminals/{id}/history``: every attempt, masked.

Messages come in the language of the ``Accept-Language`` header (``en`` or
``zh-CN``). Every decision is loaded, made and saved in one transaction by
``posflow.store.TerminalService``.

Run it with ``python examples/fastapi_service.py`` (it calls itself through
FastAPI's test client), or serve ``create_app(...)`` with any ASGI server.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pydantic
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

import posflow
from posflow.errors import (
    ConcurrencyConflict,
    InvalidInput,
    StoreUnavailable,
    TerminalExists,
    TerminalNotFound,
)
from posflow.ports import (
    Device,
    DeviceModel,
    Document,
    InMemoryDocumentVault,
    InMemoryInventory,
    InMemoryOperatorDirectory,
    InMemorySettlementAccounts,
    Ports,
    SettlementAccount,
)
from posflow.store import RetryPolicy, SQLStore, TerminalService

# -- the HTTP contract -------------------------------------------------------------------


class NewTerminal(pydantic.BaseModel):
    """A terminal to create: its id and the merchant it is for."""

    id: str = pydantic.Field(min_length=1, max_length=64)
    merchant: dict[str, Any]


class EventRequest(pydantic.BaseModel):
    """An event's payload and who asks for it."""

    payload: dict[str, Any] = pydantic.Field(default_factory=dict)
    actor: str = pydantic.Field(default="api", min_length=1, max_length=64)


class ReasonOut(pydantic.BaseModel):
    """One reason, in the caller's language."""

    code: str
    category: str
    retryable: bool
    message: str
    remedy: str
    guard: str | None


class TerminalOut(pydantic.BaseModel):
    """A terminal as the service shows it (data stays inside)."""

    id: str
    state: str
    version: int


class OutcomeOut(pydantic.BaseModel):
    """The result of firing an event."""

    ok: bool
    event: str
    terminal: TerminalOut
    retryable: bool
    reasons: list[ReasonOut]


class ExplainOut(pydantic.BaseModel):
    """What may happen next: each event allowed from the state, and why not."""

    terminal: TerminalOut
    events: dict[str, list[ReasonOut]]


def _lang(accept_language: str | None) -> str:
    return "zh-CN" if accept_language and accept_language.lower().startswith("zh") else "en"


def _reasons(reasons: tuple[posflow.Reason, ...], lang: str) -> list[ReasonOut]:
    return [
        ReasonOut(
            code=r.code,
            category=str(r.category),
            retryable=r.retryable,
            message=r.message(lang),
            remedy=r.remedy(lang),
            guard=r.guard,
        )
        for r in reasons
    ]


def _terminal(t: posflow.Terminal) -> TerminalOut:
    return TerminalOut(id=t.id, state=t.state, version=t.version)


Language = Annotated[str | None, Header()]


def create_app(service: TerminalService, ports: Ports, clock: posflow.ports.Clock) -> FastAPI:
    """The HTTP service around ``service``; guards see ``ports`` and ``clock``."""
    app = FastAPI(title="terminals", description="POS terminals, explained by posflow.")

    def context(request: EventRequest | None = None) -> posflow.Context:
        if request is None:
            return posflow.Context(actor="api", clock=clock, ports=ports)
        return posflow.Context(request.payload, actor=request.actor, clock=clock, ports=ports)

    @app.exception_handler(TerminalNotFound)
    def not_found(_request: Request, exc: TerminalNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidInput)
    def invalid(_request: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ConcurrencyConflict)
    def conflict(_request: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409, headers={"Retry-After": "1"})

    @app.exception_handler(StoreUnavailable)
    def unavailable(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.post("/terminals", status_code=201)
    def create(body: NewTerminal) -> TerminalOut:
        try:
            return _terminal(service.create(body.id, {"merchant": body.merchant}))
        except TerminalExists as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/terminals/{terminal_id}")
    def get(terminal_id: str) -> TerminalOut:
        return _terminal(service.get(terminal_id))

    @app.post("/terminals/{terminal_id}/events/{event}")
    def fire(
        terminal_id: str,
        event: str,
        body: EventRequest | None = None,
        idempotency_key: Annotated[str | None, Header()] = None,
        accept_language: Language = None,
    ) -> JSONResponse:
        outcome = service.fire(terminal_id, event, context(body), idempotency_key=idempotency_key)
        out = OutcomeOut(
            ok=outcome.ok,
            event=event,
            terminal=_terminal(outcome.terminal),
            retryable=outcome.retryable,
            reasons=_reasons(outcome.reasons, _lang(accept_language)),
        )
        return JSONResponse(out.model_dump(), status_code=200 if outcome.ok else 409)

    @app.get("/terminals/{terminal_id}/explain")
    def explain(terminal_id: str, accept_language: Language = None) -> ExplainOut:
        t = service.get(terminal_id)
        verdicts = service.explain(terminal_id, context())
        lang = _lang(accept_language)
        events = service.lifecycle.allowed_events(t.state)
        return ExplainOut(
            terminal=_terminal(t),
            events={e: _reasons(verdicts[e].reasons, lang) for e in events},
        )

    @app.get("/terminals/{terminal_id}/history")
    def history(terminal_id: str) -> list[dict[str, Any]]:
        return [record.to_dict() for record in service.history(terminal_id)]

    return app


# -- a demonstration against a SQLite file -------------------------------------------------

MERCHANT: Mapping[str, Any] = {
    "id": "M-001",
    "name": "Ming's Noodles",
    "contact_phone": "13812345678",
    "shop_address": "1 Nanjing Road",
    "type": "individual",
    "credit_code": "92310000MA1FL0001X",
    "acquirer_code": "48020000",
    "merchant_code": "898310000000001",
    "settlement_account": "6222020200112233445",
}


def demo_ports(today: dt.date) -> Ports:
    """In-memory stand-ins for the acquirer's systems, where the happy path passes."""
    expires = today + dt.timedelta(days=3650)
    documents = InMemoryDocumentVault()
    kinds = ("business_licence", "id_card_front", "id_card_back", "settlement_account")
    documents.add("M-001", *(Document(kind, expires=expires) for kind in kinds))
    documents.add("M-001", Document("storefront_photo", expires=expires))
    operators = InMemoryOperatorDirectory(cost=2**4)  # cheap hashing for a demonstration
    operators.add("T-0001", "01", "0000")
    return Ports(
        documents=documents,
        inventory=InMemoryInventory([DeviceModel("P300")], [Device("SN-0001", "P300")]),
        accounts=InMemorySettlementAccounts([SettlementAccount("M-001", "6222020200112233445")]),
        operators=operators,
    )


@contextmanager
def demo_client(directory: Path) -> Iterator[TestClient]:
    """A test client for the service on a fresh SQLite file in ``directory``."""
    store = SQLStore(f"sqlite:///{directory / 'terminals.db'}")
    store.create_schema()
    service = TerminalService(posflow.default_lifecycle(), store, retry=RetryPolicy(attempts=5))
    clock = posflow.FrozenClock()
    try:
        with TestClient(create_app(service, demo_ports(clock.now().date()), clock)) as client:
            yield client
    finally:
        store.close()


PAYLOADS: Mapping[str, Mapping[str, Any]] = {
    "ship": {"model": "P300", "sn": "SN-0001"},
    "receive": {"sn": "SN-0001"},
    "activate": {"install_address": "1 Nanjing Road"},
    "sign_in": {"operator": "01", "password": "0000", "software_version": "2.1.0"},
}


def main() -> None:
    """Create a terminal over HTTP, walk it to a sale, and show refusals explained."""
    with tempfile.TemporaryDirectory() as tmp, demo_client(Path(tmp)) as client:
        created = client.post("/terminals", json={"id": "T-0001", "merchant": dict(MERCHANT)})
        print("POST /terminals ->", created.status_code, created.json())
        again = client.post("/terminals", json={"id": "T-0001", "merchant": dict(MERCHANT)})
        print("POST /terminals (same id) ->", again.status_code)
        for event in ("review", "ship", "receive", "activate", "sign_in"):
            response = client.post(
                f"/terminals/T-0001/events/{event}",
                json={"payload": dict(PAYLOADS.get(event, {})), "actor": "ops-1"},
            )
            print(
                f"POST .../events/{event:<8} ->", response.status_code, response.json()["terminal"]
            )

        # A client that times out and sends the same sale again must not record it twice.
        sale = {"json": {"payload": {"amount": 1200}}, "headers": {"Idempotency-Key": "sale-1"}}
        first = client.post("/terminals/T-0001/events/record_sale", **sale).json()
        retried = client.post("/terminals/T-0001/events/record_sale", **sale).json()
        print(
            "record_sale, sent twice -> versions",
            first["terminal"]["version"],
            "and",
            retried["terminal"]["version"],
        )

        refused = client.post(
            "/terminals/T-0001/events/sign_out",
            json={"payload": {"password": "9999"}},
            headers={"Accept-Language": "zh-CN"},
        )
        body = refused.json()
        print("POST .../events/sign_out ->", refused.status_code, "ok" if body["ok"] else "refused")
        for reason in body["reasons"]:
            print("   ", reason["code"], "|", reason["message"], "|", reason["remedy"])

        explained = client.get("/terminals/T-0001/explain").json()
        for event, reasons in explained["events"].items():
            print(f"GET .../explain: {event:<14}", [r["code"] for r in reasons] or "allowed")
        history = client.get("/terminals/T-0001/history").json()
        print(
            "GET .../history ->", len(history), "records, the last refused:", history[-1]["reasons"]
        )
        print("GET /terminals/T-404 ->", client.get("/terminals/T-404").status_code)


if __name__ == "__main__":
    main()
