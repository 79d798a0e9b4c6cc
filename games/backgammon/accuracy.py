"""bench accuracy (being built)."""
import sys


def add_arguments(p) -> None:
    pass


def run_command(args) -> int:
    print("not available yet: bench accuracy", file=sys.stderr)
    return 2
