"""train (being built)."""
import sys


def add_arguments(p) -> None:
    pass


def run_command(args) -> int:
    print("not available yet: train", file=sys.stderr)
    return 2
