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

import re
import warnings
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


def _not_a_model(path, head: bytes, error: BaseException) -> CheckpointError:
    """The error for a file torch could not read as plain data (``head``: its first bytes), with a
    short reason of our own: torch's messages advise loading with weights_only=False, which would
    run code from the file."""
    text = str(error)
    found = re.search(r"GLOBAL ([\w.]+)", text)  # the weights-only unpickler names what it refused
    if found:
        reason = f"refused: it asks to import {found[1]}, and a model file holds plain data only"
    elif not head:
        reason = "empty file"
    elif head.startswith(b"PK"):  # a zip archive, as torch.save writes
        foreign = "inline_container" in text or "subdirectory" in text
        reason = "a zip archive, but not one PyTorch wrote" if foreign else "truncated or damaged archive"
    elif isinstance(error, EOFError):
        reason = "truncated"
    else:
        reason = "unrecognised content"
    return CheckpointError(f"{path}: not a model file ({reason})")


def read(path, map_location="cpu") -> dict:
    """The raw payload of a checkpoint file, read safely (no code runs)."""
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(f"{path}: a folder, not a model file")
    if not p.is_file():
        raise CheckpointError(f"{path}: no such model file")
    try:  # failures to read the file at all (permissions, I/O) show here, apart from its content
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the file ({e.strerror or type(e).__name__})") from None
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols of foreign files, in words that mention weights_only
            warnings.simplefilter("ignore")
            obj = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - foreign bytes fail in any way (KeyError for text, OSError for a cut zip)
        raise _not_a_model(path, head, e) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a model file (a PyTorch file, but not a comparison checkpoint: "
                              f"no 'format': {FORMAT!r} field)")
    if obj.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {obj.get('version')!r}, this package reads {VERSION}")
    for key in ("model", "state_dict"):
        if key not in obj:
            raise CheckpointError(f"{path}: not a model file (field {key!r} missing)")
    return obj


def load(path, map_location="cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint file, in eval mode."""
    obj = read(path, map_location)
    try:
        model = from_config(obj["model"])
        model.load_state_dict(obj["state_dict"])
    except Exception as e:  # noqa: BLE001 - a config from the file can be wrong in any way
        raise CheckpointError(f"{path}: not a model file (fields 'model' and 'state_dict' do not build a model: "
                              f"{type(e).__name__}: {str(e)[:200]})") from None
    model.eval()
    return Checkpoint(model, obj["model"], obj.get("meta", {}), obj.get("train_state"), str(path))


__all__ = ["Checkpoint", "CheckpointError", "load", "read", "save"]
