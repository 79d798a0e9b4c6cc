"""Trained agents: ``load_agent()`` (the packaged default model) or ``load_agent(path)``.

The agent lives in :mod:`games.backgammon.players.agent`; this module keeps the public name
``games.backgammon.agents`` of DESIGN.md.
"""
from .players.agent import Agent, load_agent  # noqa: F401

__all__ = ["Agent", "load_agent"]
