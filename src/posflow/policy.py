"""Policy as data: the acquirer's rules, validated by pydantic."""

from __future__ import annotations

import pydantic

__all__ = ["Policy"]


class Policy(pydantic.BaseModel):
    """The rules an acquirer sets; every field has a documented default."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
