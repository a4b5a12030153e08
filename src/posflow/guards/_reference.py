"""The guard and reason reference (``docs/guards.md``), generated from the code.

The reference is written from the catalogue, the guard registry and the default
lifecycle, so it cannot say something the code does not do. A test compares the
file in ``docs/`` with :func:`reference_markdown` and fails when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from posflow._reasons import Category

if TYPE_CHECKING:
    from posflow._catalogue import Catalogue
    from posflow._lifecycle import Lifecycle
    from posflow._reasons import ReasonSpec
    from posflow.guards._framework import GuardRegistry

__all__ = ["reference_markdown"]

_CATEGORIES: Final = {
    Category.DOCUMENTS: "documents (资料): what must be on file, and what may stand in for it",
    Category.COMPLIANCE: "compliance (合规): risk records, regions, quotas, binding, relocation",
    Category.STOCK: "stock (库存/机具): models, serial numbers, the warehouse, the device",
    Category.SESSION: "session (签到/签退): the daily sign-in and sign-out",
    Category.SETTLEMENT: "settlement (结算): limits, accounts, windows, money owed",
    Category.LIFECYCLE: "lifecycle: the shape of the lifecycle itself",
    Category.GUARD: "guard: a check that could not decide",
    Category.PORT: "port: an outside system that did not answer",
}

_REGENERATE: Final = (
    "python -c \"import posflow.guards as g; print(g.reference_markdown(), end='')\" "
    "> docs/guards.md"
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary(obj: object) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def _steps(lifecycle: Lifecycle) -> Iterable[str]:
    yield "| event | from | guards (all must pass) |"
    yield "|---|---|---|"
    for t in lifecycle.transitions:
        names = [
            c if isinstance(c, str) else getattr(c, "__posflow_guard_name__", "?")
            for c in t.conditions
        ]
        guards = "<br>".join(f"`{n}`" for n in names) or "—"
        yield f"| `{t.trigger}` | {', '.join(f'`{s}`' for s in t.source)} | {guards} |"


def _guards(registry: GuardRegistry) -> Iterable[str]:
    yield "| guard | what must hold |"
    yield "|---|---|"
    for name in sorted(registry):
        yield f"| `{name}` | {_cell(_summary(registry[name]))} |"


def _spec(spec: ReasonSpec) -> Iterable[str]:
    yield f"### `{spec.code}`"
    yield ""
    yield "| | |"
    yield "|---|---|"
    yield f"| retryable | {'yes' if spec.retryable else 'no'} |"
    yield f"| en | {_cell(spec.en)} |"
    yield f"| zh-CN | {_cell(spec.zh_cn)} |"
    yield f"| remedy (en) | {_cell(spec.remedy_en)} |"
    yield f"| remedy (zh-CN) | {_cell(spec.remedy_zh_cn)} |"
    yield ""


def reference_markdown(
    catalogue: Catalogue | None = None, lifecycle: Lifecycle | None = None
) -> str:
    """The guard and reason-code reference as Markdown.

    Args:
        catalogue: the reason codes to list; posflow's own by default.
        lifecycle: the lifecycle whose steps are listed; the default one by default.
    """
    from posflow._catalogue import default_catalogue  # noqa: PLC0415 - avoids an import cycle
    from posflow._default import default_lifecycle  # noqa: PLC0415

    catalogue = catalogue if catalogue is not None else default_catalogue()
    lifecycle = lifecycle if lifecycle is not None else default_lifecycle()
    lines = [
        "# Guards and reason codes",
        "",
        "<!-- Generated from the code by posflow.guards.reference_markdown(); do not edit.",
        f"     Regenerate with: {_REGENERATE} -->",
        "",
        "Every refusal carries one or more reasons. Each reason has a code",
        "(`category.what_is_wrong`), a message and a remedy in `en` and `zh-CN`,",
        "its evidence (`reason.params`, sensitive values masked) and whether",
        "retrying later, unchanged, can succeed. `{name}` in a text is filled from",
        "the evidence. The data keys and payloads the guards read are described in",
        "[terminal-data.md](terminal-data.md).",
        "",
        f"## Which guards protect which step ({lifecycle.name})",
        "",
        *_steps(lifecycle),
        "",
        "## Guards",
        "",
        *_guards(lifecycle.guards),
        "",
        "## Reason codes",
        "",
        f"{len(catalogue)} codes, by category.",
        "",
    ]
    for category in Category:
        specs = [s for s in catalogue.values() if s.category is category]
        if not specs:
            continue
        lines += [f"## {_CATEGORIES[category]}", ""]
        for spec in specs:
            lines += _spec(spec)
    return "\n".join(lines).rstrip() + "\n"
