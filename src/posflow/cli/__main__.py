"""``python -m posflow.cli``: the ``posflow`` command without the console script."""

from posflow.cli import main

if __name__ == "__main__":  # pragma: no cover - run as a process by tests
    main()
