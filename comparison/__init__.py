"""Comparison training: learn to choose moves the way experts do (Tesauro's comparison paradigm).

Game-agnostic framework; the games themselves live in ``games/``. Command line:
``python -m comparison --help``.
"""
__version__ = "0.1.0"
