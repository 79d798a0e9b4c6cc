"""The trainer: comparison training of a scorer on decision groups.

One step: a batch of decisions -> the scorer's score of every candidate -> the loss over groups
(comparison.losses; pairwise = Tesauro's comparison paradigm) plus the scorer's own extra loss
(``extra_loss``: a mixture's router losses; 0 for a dense scorer) -> Adam. After each epoch:
agreement with the expert on the validation decisions; the best model is written atomically to
``out``, the state to resume from to ``<out>.last`` (also on Ctrl-C, at the exact batch). Fixed
seeds reproduce a run (batch order is a function of (seed, epoch)).

Data parallel: launched by ``torchrun --nproc_per_node N`` (WORLD_SIZE > 1), every process takes
its share of each batch and DistributedDataParallel averages the gradients (gloo on CPU, nccl on
CUDA). DDP wraps :class:`Objective`, the whole loss of a batch, so the gradients of the scorer's
extra losses are averaged too. All processes validate the same way, only rank 0 writes files and
shows progress.
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

import torch
from torch import nn

from . import checkpoint, losses
from .data import Batch, DecisionSet, batch_indices, make_batch
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
    aux_weight: float = 1.0         # weight of the scorer's extra_loss (a mixture's router losses)
    engine_pairs: float = 0.0       # weight of the engine's preference pairs (batches' ``values``), 0 = off
    threads: Optional[int] = None   # torch CPU threads (default: torch's choice)


class Objective(nn.Module):
    """The loss of one batch, as a module: the comparison loss of the scorer's scores (the
    people's choices) plus ``extra_weight`` times the scorer's own ``extra_loss`` (a mixture's
    router losses, an outcome model's absolute targets) plus ``pair_weight`` times the engine's
    preference pairs among the candidates it valued (:func:`comparison.losses.engine_pairs` of
    ``batch.values``: a second kind of expert for the same comparison loss).

    Data-parallel training wraps this module rather than the scorer: DistributedDataParallel
    averages the gradients of what is computed inside the forward it wraps, and a preference
    router's loss calls the router outside the scorer's forward.
    """

    def __init__(self, scorer: nn.Module, loss_fn: Callable, extra_weight: float = 1.0, pair_weight: float = 0.0):
        super().__init__()
        self.scorer, self.loss_fn = scorer, loss_fn
        self.extra_weight, self.pair_weight = extra_weight, float(pair_weight)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        scores = self.scorer(batch.x)                               # (M,) every candidate of the G decisions
        loss = self.loss_fn(scores, batch.group, batch.chosen)      # mean over the decisions
        extra, logs = self.scorer.extra_loss(batch)                 # right after the forward on batch.x
        loss = loss + self.extra_weight * extra
        if self.pair_weight and batch.values is not None:
            pairs = losses.engine_pairs(scores, batch.group, batch.values, batch.n_groups)
            loss = loss + self.pair_weight * pairs
            logs = {**logs, "engine_pairs": float(pairs.detach())}
        return loss, logs


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
        self.objective = Objective(self.model, self.loss_fn, cfg.aux_weight, cfg.engine_pairs)
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            # every parameter is reached by the loss of every batch (a mixture's experts share one
            # weight tensor; a preference router is reached by its loss), so none is left unused
            self.objective = DistributedDataParallel(
                self.objective, device_ids=[self.device.index] if self.device.type == "cuda" else None)
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
        self.objective.train()
        index = batch_indices(len(self.train_data), cfg.batch_size, shuffle=True, seed=(cfg.seed, self.epoch),
                              rank=self.rank, world=self.world)
        batches = (make_batch(self.train_data, idx, self.featurize) for idx in index[self.step_in_epoch:])
        bar = tqdm(batches, total=len(index), initial=self.step_in_epoch, desc=f"epoch {self.epoch + 1}/{cfg.epochs}",
                   unit="batch", disable=not (self.progress and self.is_main), file=sys.stderr, leave=False)
        total, count = 0.0, 0
        logged: dict[str, float] = {}  # sums of the scorer's extra-loss terms
        t0 = time.perf_counter()
        for batch in bar:
            loss, logs = self.objective(batch.to(self.device))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step_in_epoch += 1
            self.steps += 1
            total += float(loss.detach())
            count += 1
            for k, v in logs.items():
                logged[k] = logged.get(k, 0.0) + v
            if count % 20 == 0:
                bar.set_postfix(loss=f"{total / count:.4f}")
            if self._budget_spent_in_epoch(t0):
                break
        bar.close()
        seconds = time.perf_counter() - t0
        self.train_seconds += seconds
        self.epoch += 1
        self.step_in_epoch = 0
        means = self._mean_over_ranks({"train_loss": total, **{f"train_{k}": v for k, v in logged.items()}}, count)
        self._end_epoch(means, seconds)

    def _mean_over_ranks(self, sums: dict, count: int) -> dict:
        """Per-step means of ``sums`` over every rank's steps: all ranks log, and stop early on, the same numbers."""
        t = torch.tensor([count, *sums.values()], dtype=torch.float64, device=self.device)
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(t)
        return {k: float(v) / max(float(t[0]), 1.0) for k, v in zip(sums, t[1:])}

    def _budget_spent_in_epoch(self, t0) -> bool:
        cfg = self.config
        return ((cfg.max_steps is not None and self.steps >= cfg.max_steps)
                or (cfg.max_seconds is not None and self.train_seconds + time.perf_counter() - t0 >= cfg.max_seconds))

    def _end_epoch(self, train: dict, seconds: float) -> None:
        row = {"epoch": self.epoch, "steps": self.steps, **train, "epoch_seconds": seconds,
               "lr": self.optimizer.param_groups[0]["lr"]}
        if self.valid_data is not None and len(self.valid_data):
            t = time.perf_counter()
            metrics = evaluate(self.model, self.valid_data, self.featurize, device=self.device)
            row.update({f"valid_{k}": v for k, v in metrics.items()}, valid_seconds=time.perf_counter() - t)
            metric = metrics["top1"]
        else:
            metric = -row["train_loss"]
        row.update(self.model.epoch_stats())  # e.g. a mixture's {"router": expert load, ...}
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
    s = f"epoch {row['epoch']:3d}  loss {row['train_loss']:.4f}"
    extra = {k[len("train_"):]: v for k, v in row.items() if k.startswith("train_") and k != "train_loss"}
    s += "".join(f" ({k} {v:.4f})" for k, v in extra.items())  # the scorer's extra-loss terms
    s += f"  {row['epoch_seconds']:.1f}s"
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


__all__ = ["Objective", "TrainConfig", "Trainer", "finish_distributed", "last_path"]
