"""``records stats`` and ``records convert`` (being built)."""
import sys


def add_stats_arguments(p) -> None:
    pass


def run_stats_command(args) -> int:
    print("not available yet: records stats", file=sys.stderr)
    return 2


def add_convert_arguments(p) -> None:
    pass


def run_convert_command(args) -> int:
    print("not available yet: records convert", file=sys.stderr)
    return 2
