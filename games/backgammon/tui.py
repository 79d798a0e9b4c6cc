"""play against a model or bot in the terminal (being built)."""
import sys


def add_arguments(p) -> None:
    pass


def run_command(args) -> int:
    print("not available yet: play against a model or bot in the terminal", file=sys.stderr)
    return 2
