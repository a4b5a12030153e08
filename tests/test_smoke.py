"""A first end-to-end walk through the default lifecycle."""

from __future__ import annotations

import posflow


class TestDefaultLifecycleWalk:
    def test_a_terminal_walks_from_application_to_its_first_settlement(self) -> None:
        lc = posflow.default_lifecycle()
        merchant = {
            "name": "Ming's Noodles",
            "contact_phone": "13812345678",
            "shop_address": "1 Road",
        }
        t = lc.new_terminal("T1", {"merchant": merchant})
        ctx = posflow.Context(clock=posflow.FrozenClock())
        for event in ("review", "ship", "receive", "activate", "sign_in"):
            t = lc.fire(t, event, ctx).raise_for_blocked().terminal
        t = lc.fire(t, "record_sale", ctx.with_payload(amount=1200)).raise_for_blocked().terminal
        refused = lc.fire(t, "sign_out", ctx)
        assert refused.codes == ("session.unsettled_batch",)
        assert refused.terminal is t
        t = lc.fire(t, "settle", ctx).raise_for_blocked().terminal
        t = lc.fire(t, "sign_out", ctx).raise_for_blocked().terminal
        assert (t.state, t.version, t.data["balance"]) == ("signed_out", 8, 1200)
