"""The rules of backgammon: the board, legal plays (Numba), notation, gnubg IDs, scoring, phases.

The bottom layer: imports nothing else of the package, and no torch.
"""
