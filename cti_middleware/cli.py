"""Command line entry point (filled in by the composition code)."""


def main() -> None:
    raise SystemExit("not yet")
