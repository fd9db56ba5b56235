"""Train the tiny MNIST vision transformer of issue 13 and write it as ONNX: ``vit.onnx``.

torch is not a dependency of vcp; run this in a scratch venv (never in .venv), from the repo root:

    python3.11 -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.13.0 onnx onnxscript numpy
    /tmp/tv/bin/python vcp_toolkit/model/builtin/train_vit.py

It writes ``vcp_toolkit/model/builtin/vit.onnx`` (TorchScript exporter, opset 17) and the dynamo
exporter's copy ``tests/fixtures/onnx/vit/vit_dynamo.onnx``. ``--validate N`` trains on the 4,000
train images less N (in a fixed shuffled order) and reports accuracy on those N instead of writing
files: the recipe was chosen that way, so the 1,000 held-out images never steer it.

The model: 7x7 patches embedded by a Conv 1->DIM, kernel 7, stride 7 (the same map as a Linear
49->DIM on each flattened patch, and an operator vcp's integer graph already has), a class token and
learned positional embeddings (17 tokens), DEPTH pre-norm encoder layers (LayerNorm, self-attention
of HEADS heads written out with Linear Q/K/V/out, MatMul, a constant scale and Softmax, residual Add,
LayerNorm, MLP DIM -> MLP * DIM -> DIM with exact (erf) GELU, residual Add), a final LayerNorm, and
a Linear 10-way head on the class token. No dropout. Reshapes use constant shapes with -1 for the
batch, so the only shape arithmetic in the graph is the class token's Expand to the batch size (to
the Shape of a one-token Slice in the TorchScript file).

Data: ``mnist28.npz`` beside this file, read with numpy only (the vcp package is not imported, so
the scratch venv needs none of its dependencies). Recipe (RECIPE below): AdamW (weight decay 0.05 on
the matrices and the conv kernel only), one-cycle learning rate, batch 64, cross-entropy with label
smoothing 0.1, 200 epochs; every epoch each training image under its own random affine map (rotation
up to 15 degrees, scale 0.85..1.15, shift up to 2 px on each axis; bilinear, zero fill). Seeds are fixed,
``torch.use_deterministic_algorithms(True)`` and one thread. Float rounding still differs across
CPUs and builds, so a retrain gives close, not identical, weights: the committed ONNX files are the
source of truth (docs/models.md reports their accuracy).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "onnx" / "vit"
SEED = 20261207
THREADS = 1  # on a shared 2-core machine two threads spin against other jobs: one is faster
BATCH = 64
SHIFT = 2
OPSET = 17

SIDE, PATCH = 28, 7
PATCHES = (SIDE // PATCH) ** 2  # 16
TOKENS = PATCHES + 1  # the class token first
DIM, HEADS, DEPTH, MLP = 32, 2, 2, 4


@dataclass(frozen=True)
class Recipe:
    epochs: int
    peak_lr: float
    rotate: float = 0.0  # degrees
    scale: float = 0.0  # relative
    weight_decay: float = 0.05  # AdamW's, decoupled from the gradient
    label_smoothing: float = 0.0


# Chosen with --validate 1000 (docs/models.md lists the recipes tried): rotation, scaling and label
# smoothing helped; more epochs or stronger rotation than this gained nothing beyond noise.
RECIPE = Recipe(200, 3e-3, rotate=15.0, scale=0.15, label_smoothing=0.1)


class Attention(nn.Module):
    """Multi-head self-attention written out: Q, K, V and output Linear maps, softmax(Q K^T * scale) V."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))

    def split(self, z: torch.Tensor) -> torch.Tensor:
        """(N, T, dim) -> (N, heads, T, head_dim)."""
        return z.reshape(-1, TOKENS, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale  # (N, heads, T, T)
        mixed = torch.matmul(scores.softmax(dim=-1), v)  # (N, heads, T, head_dim)
        return self.out(mixed.transpose(1, 2).reshape(-1, TOKENS, self.heads * self.head_dim))


class EncoderLayer(nn.Module):
    """Pre-norm: x + Attention(LayerNorm(x)), then x + MLP(LayerNorm(x)) with exact GELU."""

    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="none"), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """Conv patch embedding (7x7, stride 7), class token, positional embeddings, DEPTH encoder layers,
    final LayerNorm, Linear head on the class token."""

    def __init__(self, dim: int = DIM, heads: int = HEADS, depth: int = DEPTH, mlp: int = MLP) -> None:
        super().__init__()
        self.embed = nn.Conv2d(1, dim, PATCH, stride=PATCH)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, TOKENS, dim))
        nn.init.trunc_normal_(self.cls, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.layers = nn.Sequential(*(EncoderLayer(dim, heads, mlp * dim) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        patches = self.embed(x).reshape(-1, self.cls.shape[-1], PATCHES).transpose(1, 2)  # (N, 16, dim)
        cls = self.cls.expand_as(patches[:, :1])  # the exporters write Slice, Shape, Expand: no -1 to resolve
        h = self.layers(torch.cat([cls, patches], dim=1) + self.pos)
        return self.head(self.norm(h)[:, 0])


def load_data(validate: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_eval, y_eval): the held-out split, or N train images when ``validate``."""
    with np.load(HERE / "mnist28.npz", allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
        train, test, recorded = data["train_index"], data["test_index"], str(data["arrays_sha256"])
    if hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest() != recorded:
        raise SystemExit("mnist28.npz does not match its recorded sha256")
    x = torch.tensor(images, dtype=torch.float32).div(255.0).unsqueeze(1)
    y = torch.tensor(labels, dtype=torch.int64)
    if validate:
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(SEED))
        train, test = train[order[validate:].numpy()], train[order[:validate].numpy()]
    return x[train], y[train], x[test], y[test]


def augment(x: torch.Tensor, recipe: Recipe, generator: torch.Generator) -> torch.Tensor:
    """Each image under its own random small affine map: rotation up to ``recipe.rotate`` degrees, scale
    within 1 +- ``recipe.scale``, shift up to SHIFT px on each axis; bilinear, zeros filling in."""
    n, side = len(x), x.shape[-1]
    draw = torch.rand(n, 4, generator=generator, dtype=torch.float64) * 2 - 1  # uniform in [-1, 1)
    angle = torch.deg2rad(draw[:, 0] * recipe.rotate)
    zoom = 1 + draw[:, 1] * recipe.scale
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / zoom, -torch.sin(angle) / zoom
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / zoom, torch.cos(angle) / zoom
    theta[:, :, 2] = draw[:, 2:] * (2 * SHIFT / side)  # grid units: the image spans [-1, 1]
    grid = F.affine_grid(theta.float(), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on the matrices and conv kernels only: not on biases, LayerNorm gains, tokens."""
    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and name not in ("cls", "pos")]
    rest = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and name not in ("cls", "pos"))]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, log_every: int = 10) -> nn.Module:
    generator = torch.Generator().manual_seed(SEED)
    epochs, peak_lr = recipe.epochs, recipe.peak_lr
    steps = (len(x) + BATCH - 1) // BATCH
    optimizer = torch.optim.AdamW(parameter_groups(model, recipe.weight_decay), lr=peak_lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, peak_lr, epochs=epochs, steps_per_epoch=steps)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        xs, total = augment(x[order], recipe, generator), 0.0
        for start in range(0, len(x), BATCH):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xs[start:start + BATCH]), y[order[start:start + BATCH]],
                                   label_smoothing=recipe.label_smoothing)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(xs[start:start + BATCH])
        if (epoch + 1) % log_every == 0 or epoch + 1 == epochs:
            print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}", flush=True)
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((model.eval()(x).argmax(dim=1) == y).float().mean())


def export_torchscript(model: nn.Module, path: Path) -> None:
    """Opset 17 (LayerNormalization is an op there; Gelu is not until 20, so exact GELU is written
    with Erf), dynamic batch, constants folded (the Linear weights stored transposed for MatMul)."""
    torch.onnx.export(model, (torch.zeros(1, 1, SIDE, SIDE),), str(path), dynamo=False, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def export_dynamo(model: nn.Module, path: Path) -> None:
    """The dynamo exporter's own opset and op choices, as a user's file would have them."""
    program = torch.onnx.export(model, (torch.zeros(2, 1, SIDE, SIDE),), dynamo=True, input_names=["input"],
                                output_names=["logits"], dynamic_shapes={"x": {0: torch.export.Dim("N")}})
    program.save(str(path))


def run(validate: int, out_dir: Path, fixtures: Path, recipe: Recipe = RECIPE) -> float:
    """Train the ViT with ``recipe``; write its files unless ``validate``; its accuracy."""
    torch.manual_seed(SEED)
    x_train, y_train, x_eval, y_eval = load_data(validate)
    model = TinyViT()
    params = sum(p.numel() for p in model.parameters())
    print(f"vit: {params:,} parameters, {recipe} on {len(x_train)} images", flush=True)
    started = time.perf_counter()
    train(model, x_train, y_train, recipe)
    seconds = time.perf_counter() - started
    what = f"validation ({validate} train images)" if validate else "held-out (1,000 test images)"
    score = accuracy(model, x_eval, y_eval)
    print(f"vit: trained in {seconds:.0f} s; {what} accuracy {score:.2%}", flush=True)
    if not validate:
        export_torchscript(model, out_dir / "vit.onnx")
        fixtures.mkdir(parents=True, exist_ok=True)
        export_dynamo(model, fixtures / "vit_dynamo.onnx")
        print(f"vit: wrote {out_dir / 'vit.onnx'} and {fixtures / 'vit_dynamo.onnx'}", flush=True)
    return score


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate", type=int, default=0, metavar="N",
                        help="hold N train images out for validation and write nothing (default: 0)")
    parser.add_argument("--out-dir", type=Path, default=HERE, help=f"where vit.onnx goes (default: {HERE})")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help=f"the dynamo copy (default: {FIXTURES})")
    args = parser.parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(THREADS)
    run(args.validate, args.out_dir, args.fixtures)


if __name__ == "__main__":
    main()
