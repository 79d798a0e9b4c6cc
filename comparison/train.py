"""The trainer: comparison training of a scorer on decision groups.

One step: a batch of decisions -> the scorer's score of every candidate -> the loss over groups
(comparison.losses; pairwise = Tesauro's comparison paradigm) plus any router auxiliary loss ->
Adam. After each epoch: agreement with the expert on the validation decisions; the best model is
written atomically to ``out``, the state to resume from to ``<out>.last`` (also on Ctrl-C, at the
exact batch). Fixed seeds reproduce a run (batch order is a function of (seed, epoch)).

Data parallel: launched by ``torchrun --nproc_per_node N`` (WORLD_SIZE > 1), every process takes
its share of each batch and DistributedDataParallel averages the gradients (gloo on CPU, nccl on
CUDA); all processes validate the same way, only rank 0 writes files and shows progress.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from . import checkpoint, losses
from .data import DecisionSet, batch_indices, make_batch
from .evaluate import evaluate


@dataclass
class TrainConfig:
    loss: str = "pairwise"
    epochs: int = 20
    batch_size: int = 128           # decisions per step (all ranks together)
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"        # "cosine" (to 5% of lr over the epochs) or "constant"
    patience: int = 4               # stop after this many epochs without a better validation agreement
    seed: int = 0
    device: str = "auto"            # "auto", "cpu", "cuda", "cuda:1", ...
    max_steps: Optional[int] = None  # stop after this many steps in all (a compute budget)
    max_seconds: Optional[float] = None  # stop after this much training time
    aux_weight: float = 1.0         # weight of the scorer's aux_loss (mixture-of-experts routers)
    threads: Optional[int] = None   # torch CPU threads (default: torch's choice)


@dataclass
class Trainer:
    """Runs epochs; ``history`` holds one dict per epoch (loss, validation metrics, timings)."""

    model: torch.nn.Module
    train_data: DecisionSet
    valid_data: Optional[DecisionSet]
    featurize: Callable
    config: TrainConfig = field(default_factory=TrainConfig)
    out: Optional[str] = None
    meta: dict = field(default_factory=dict)       # stored in the checkpoints (encoding, game...)
    progress: bool = True
    log: Callable = print
    history: list = field(default_factory=list)

    def __post_init__(self):
        cfg = self.config
        self.loss_fn = losses.get(cfg.loss)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.rank, self.world = _dist_setup()
        self.device = _device(cfg.device, self.rank)
        torch.manual_seed(cfg.seed)
        self.model.to(self.device)
        self.net = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            # hard routers leave some experts without positions in a batch: no gradient for them
            unused = getattr(self.model, "config", {}).get("kind") == "moe"
            self.net = DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                                               find_unused_parameters=unused)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.epoch = 0           # epochs completed
        self.step_in_epoch = 0   # batches done in the current (incomplete) epoch
        self.steps = 0
        self.best = -math.inf
        self.bad_epochs = 0
        self.train_seconds = 0.0

    # ---------------------------------------------------------------- state

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def state(self) -> dict:
        return {"epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "steps": self.steps, "best": self.best,
                "bad_epochs": self.bad_epochs, "train_seconds": self.train_seconds,
                "optimizer": self.optimizer.state_dict(), "config": asdict(self.config)}

    def save_last(self) -> None:
        if self.out and self.is_main:
            checkpoint.save(last_path(self.out), self.model, self._meta(), self.state())

    def _meta(self) -> dict:
        return {**self.meta, "history": self.history, "train_config": asdict(self.config)}

    def resume(self, path=None) -> bool:
        """Continue from ``<out>.last`` (or ``path``); False when there is nothing to resume."""
        path = Path(path or last_path(self.out))
        if not path.exists():
            return False
        ck = checkpoint.read(path)
        if ck["model"] != self.model.config:
            raise checkpoint.CheckpointError(f"{path}: its model {ck['model']} differs from the one asked for "
                                             f"{self.model.config}")
        self.model.load_state_dict(ck["state_dict"])
        st = ck.get("train_state") or {}
        self.optimizer.load_state_dict(st["optimizer"])
        for k in ("epoch", "step_in_epoch", "steps", "best", "bad_epochs", "train_seconds"):
            setattr(self, k, st[k])
        self.history = list(ck["meta"].get("history", []))
        if self.is_main:
            self.log(f"resumed from {path}: epoch {self.epoch + 1}, batch {self.step_in_epoch}")
        return True

    # ---------------------------------------------------------------- training

    def _lr(self, epoch: int) -> float:
        cfg = self.config
        if cfg.schedule == "constant" or cfg.epochs <= 1:
            return cfg.lr
        t = epoch / (cfg.epochs - 1)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))

    def fit(self) -> list:
        """Train until ``epochs``, early stopping, or a budget; returns the history."""
        cfg = self.config
        interrupted = False
        previous = signal.getsignal(signal.SIGTERM)
        if self.is_main:  # a scheduler's SIGTERM saves like Ctrl-C
            signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            while self.epoch < cfg.epochs and not self._budget_spent() and self.bad_epochs < cfg.patience:
                self._run_epoch()
        except KeyboardInterrupt:
            interrupted = True
            self.save_last()
            if self.is_main and self.out:
                self.log(f"\ninterrupted: state saved to {last_path(self.out)}; continue with --resume")
        finally:
            if self.is_main:
                signal.signal(signal.SIGTERM, previous)
        if interrupted:
            raise KeyboardInterrupt
        return self.history

    def _budget_spent(self) -> bool:
        cfg = self.config
        return ((cfg.max_steps is not None and self.steps >= cfg.max_steps)
                or (cfg.max_seconds is not None and self.train_seconds >= cfg.max_seconds))

    def _run_epoch(self) -> None:
        from tqdm import tqdm

        cfg = self.config
        for g in self.optimizer.param_groups:
            g["lr"] = self._lr(self.epoch)
        self.net.train()
        index = batch_indices(len(self.train_data), cfg.batch_size, shuffle=True, seed=(cfg.seed, self.epoch),
                              rank=self.rank, world=self.world)
        batches = (make_batch(self.train_data, idx, self.featurize) for idx in index[self.step_in_epoch:])
        bar = tqdm(batches, total=len(index), initial=self.step_in_epoch, desc=f"epoch {self.epoch + 1}/{cfg.epochs}",
                   unit="batch", disable=not (self.progress and self.is_main), file=sys.stderr, leave=False)
        total, count = 0.0, 0
        t0 = time.perf_counter()
        for batch in bar:
            batch = batch.to(self.device)
            scores = self.net(batch.x)                                   # (M,)
            loss = self.loss_fn(scores, batch.group, batch.chosen)
            aux = getattr(self.model, "aux_loss", None)
            if aux is not None and cfg.aux_weight:
                loss = loss + cfg.aux_weight * aux
            if getattr(getattr(self.model, "router", None), "learns_from_preferences", False):
                from .moe import preference_loss  # the router learns which expert ranks this decision best

                loss = loss + preference_loss(self.model, batch.x, batch.group, batch.offsets, batch.chosen)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step_in_epoch += 1
            self.steps += 1
            total += float(loss.detach())
            count += 1
            if count % 20 == 0:
                bar.set_postfix(loss=f"{total / count:.4f}")
            if self._budget_spent_in_epoch(t0):
                break
        bar.close()
        seconds = time.perf_counter() - t0
        self.train_seconds += seconds
        self.epoch += 1
        self.step_in_epoch = 0
        self._end_epoch(total / max(count, 1), seconds)

    def _budget_spent_in_epoch(self, t0) -> bool:
        cfg = self.config
        return ((cfg.max_steps is not None and self.steps >= cfg.max_steps)
                or (cfg.max_seconds is not None and self.train_seconds + time.perf_counter() - t0 >= cfg.max_seconds))

    def _end_epoch(self, train_loss: float, seconds: float) -> None:
        row = {"epoch": self.epoch, "steps": self.steps, "train_loss": train_loss, "epoch_seconds": seconds,
               "lr": self.optimizer.param_groups[0]["lr"]}
        if self.valid_data is not None and len(self.valid_data):
            t = time.perf_counter()
            metrics = evaluate(self.model, self.valid_data, self.featurize, device=self.device)
            row.update({f"valid_{k}": v for k, v in metrics.items()}, valid_seconds=time.perf_counter() - t)
            metric = metrics["top1"]
        else:
            metric = -train_loss
        stats = getattr(self.model, "router_stats", None)
        if callable(stats):
            row["router"] = stats()
        improved = metric > self.best
        if improved:
            self.best, self.bad_epochs = metric, 0
        else:
            self.bad_epochs += 1
        self.history.append(row)
        if self.is_main:
            if improved and self.out:
                checkpoint.save(self.out, self.model, {**self._meta(), "best_epoch": self.epoch})
            self.save_last()
            self.log(_epoch_line(row, improved))


def finish_distributed() -> None:
    """Leave the process group (a gloo process that exits without this may abort at exit)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _epoch_line(row: dict, improved: bool) -> str:
    s = f"epoch {row['epoch']:3d}  loss {row['train_loss']:.4f}  {row['epoch_seconds']:.1f}s"
    if "valid_top1" in row:
        s += f"  valid top-1 {100 * row['valid_top1']:.2f}%  top-3 {100 * row['valid_top3']:.2f}%  MRR {row['valid_mrr']:.4f}"
    if "router" in row and "load" in row["router"]:
        s += "  load " + "/".join(f"{x:.2f}" for x in row["router"]["load"])
    return s + ("  *" if improved else "")


def last_path(out) -> Path:
    p = Path(out)
    return p.with_name(p.name + ".last")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _dist_setup() -> tuple[int, int]:
    """(rank, world size); joins the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("COMPARISON_BACKEND") != "gloo" else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def _device(name: str, rank: int) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)) % torch.cuda.device_count())
        return torch.device("cpu")
    return torch.device(name)


def plot_history(history: list, path, title: str = "") -> None:
    """Training curves (loss and validation agreement per epoch) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(epochs, [r["train_loss"] for r in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="training loss", title="loss")
    if any("valid_top1" in r for r in history):
        for key, label in (("valid_top1", "top-1"), ("valid_top3", "top-3")):
            ax[1].plot(epochs, [100 * r.get(key, np.nan) for r in history], marker="o", label=label)
        ax[1].set(xlabel="epoch", ylabel="agreement with the expert (%)", title="validation")
        ax[1].legend()
    for a in ax:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


__all__ = ["TrainConfig", "Trainer", "finish_distributed", "last_path", "plot_history"]
