"""Model files: one file with the model's config and weights, loaded without running code.

A checkpoint is a ``torch.save`` of plain data only (dicts, lists, strings, numbers, tensors):

    {"format": "comparison-checkpoint", "version": 1,
     "model": <scorer config: rebuilds the architecture>,
     "state_dict": <weights>,
     "meta": {"encoding": ..., "game": ..., "history": [...], ...},   # JSON-like
     "train_state": {...} or absent}                                   # optimizer etc., for --resume

It is read with ``torch.load(weights_only=True)``: a file whose pickle would import or call
anything (the classic torch.load code-execution hole) is refused before anything runs.
"""
from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .data import atomic_write
from .models import from_config

FORMAT = "comparison-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message names the file and why."""


@dataclass
class Checkpoint:
    model: torch.nn.Module
    config: dict
    meta: dict = field(default_factory=dict)
    train_state: dict | None = None
    path: str = ""


def save(path, model: torch.nn.Module, meta: dict | None = None, train_state: dict | None = None) -> None:
    """Write ``model`` (its ``config`` and weights) and ``meta`` to ``path`` atomically."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    payload = {"format": FORMAT, "version": VERSION, "model": dict(model.config),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "meta": dict(meta or {})}
    if train_state is not None:
        payload["train_state"] = train_state
    atomic_write(path, lambda f: torch.save(payload, f))


def read(path, map_location="cpu") -> dict:
    """The raw payload of a checkpoint file, read safely (no code runs)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{path}: no such model file")
    try:
        obj = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        text = str(e)
        # the weights-only unpickler names the global it refused to import: code or arbitrary objects
        found = re.search(r"(?:Unsupported global|GLOBAL)[^\n]{0,120}", text)
        if found:
            raise CheckpointError(f"{path}: refused: loading this file would run code or build arbitrary "
                                  f"objects ({found[0].strip()})") from None
        raise CheckpointError(f"{path}: not a model file ({text.strip().splitlines()[0][:200] if text.strip() else 'unreadable pickle'})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a model file ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a comparison checkpoint (no 'format': {FORMAT!r} field)")
    if obj.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {obj.get('version')!r}, this package reads {VERSION}")
    for key in ("model", "state_dict"):
        if key not in obj:
            raise CheckpointError(f"{path}: field {key!r} missing")
    return obj


def load(path, map_location="cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint file, in eval mode."""
    obj = read(path, map_location)
    try:
        model = from_config(obj["model"])
        model.load_state_dict(obj["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: field 'model' or 'state_dict' does not build a model ({str(e)[:300]})") from None
    model.eval()
    return Checkpoint(model, obj["model"], obj.get("meta", {}), obj.get("train_state"), str(path))


__all__ = ["Checkpoint", "CheckpointError", "load", "read", "save"]
