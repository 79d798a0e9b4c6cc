"""Backgammon's commands for ``python -m comparison``: play, match, records, bench.

Each module is a pair ``add_arguments(parser)`` / ``run_command(args)``; the game protocol
(:mod:`games.backgammon.learn.game`) lists them, and the command line is assembled from it.
"""
