"""The ``posflow`` command (``pip install posflow[cli]``).

``posflow simulate`` drives a fleet through the default lifecycle with faults
drawn from a seed and reports what happened; ``explain``, ``history``,
``diagram`` and ``validate`` answer questions about terminals and lifecycles.
See docs/cli.md.
"""

from __future__ import annotations

from posflow.cli._app import app, main

__all__ = ["app", "main"]
