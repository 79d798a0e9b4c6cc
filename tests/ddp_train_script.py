"""Helper of test_comparison: the same small training run, under torchrun or as one process."""
import sys

import numpy as np
import torch

from comparison import models
from comparison.data import DecisionSet
from comparison.train import TrainConfig, Trainer, finish_distributed


def main(out):
    rng = np.random.default_rng(4)
    w = rng.normal(size=8)
    sizes = rng.integers(2, 13, size=300)
    items = rng.normal(size=(int(sizes.sum()), 8)).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    value = items @ w
    chosen = np.array([int(np.argmax(value[offsets[g]:offsets[g + 1]])) for g in range(len(sizes))])
    data = DecisionSet(items, offsets, chosen)
    torch.manual_seed(0)
    model = models.build_scorer("mlp", d_in=8, hidden=(16,))
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=0, patience=100, threads=1, device="cpu")
    trainer = Trainer(model, data, None, lambda x: x, cfg, out=out, progress=False, log=lambda s: None)
    trainer.fit()
    finish_distributed()


if __name__ == "__main__":
    main(sys.argv[1])
