"""Walk one terminal through the default lifecycle and show a refusal explained."""

from __future__ import annotations

import posflow


def main() -> None:
    lc = posflow.default_lifecycle()
    ctx = posflow.Context(clock=posflow.FrozenClock())
    merchant = {"name": "Ming's Noodles", "contact_phone": "13812345678", "shop_address": "1 Road"}
    t = lc.new_terminal("T-0001", {"merchant": merchant})
    for event in ("review", "ship", "receive", "activate", "sign_in"):
        t = lc.fire(t, event, ctx).raise_for_blocked().terminal
        print(f"{event:>12} -> {t.state}")
    t = lc.fire(t, "record_sale", ctx.with_payload(amount=1200)).terminal
    refused = lc.fire(t, "sign_out", ctx)
    for line in refused.explain("en") + refused.explain("zh-CN"):
        print("   refused:", line)


if __name__ == "__main__":
    main()
