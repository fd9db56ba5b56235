"""Train the demo model with numpy and write its float and quantized weights.

    python -m vcp.model.builtin.train_digits [--out DIR]

Minibatch Adam with a fixed seed. The committed files are the source of truth: the *quantized*
file is the canonical artifact (its commitment, which covers the float file's sha256, is what gets
registered). Float training goes through BLAS, whose rounding differs across CPUs and builds, so a
retrain reproduces the committed weights only up to that rounding (and so has another model root);
tests/test_fixedpoint.py compares a retrain with a tolerance and by its accuracy, never bit for bit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vcp_toolkit.model.datasets import INPUT_SCALE, load_digits_split
from vcp_toolkit.model.float_model import Dense, Model, ReLU, file_digest
from vcp_toolkit.model.quantize import quantize

HIDDEN = 32
EPOCHS = 60
BATCH = 32
LEARNING_RATE = 0.01
SEED = 7


def train(hidden: int = HIDDEN, epochs: int = EPOCHS, seed: int = SEED) -> Model:
    split = load_digits_split()
    rng = np.random.default_rng(seed)
    n_in, n_out = split.x_train.shape[1], 10
    params = {
        "w1": rng.normal(0.0, np.sqrt(2.0 / n_in), (hidden, n_in)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0.0, np.sqrt(2.0 / hidden), (n_out, hidden)),
        "b2": np.zeros(n_out),
    }
    moment1 = {k: np.zeros_like(v) for k, v in params.items()}
    moment2 = {k: np.zeros_like(v) for k, v in params.items()}
    step = 0
    onehot = np.eye(n_out)[split.y_train]
    for _ in range(epochs):
        order = rng.permutation(len(split.x_train))
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            x, t = split.x_train[idx], onehot[idx]
            h_pre = x @ params["w1"].T + params["b1"]
            h = np.maximum(h_pre, 0.0)
            logits = h @ params["w2"].T + params["b2"]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d_logits = (p - t) / len(idx)
            grads = {
                "w2": d_logits.T @ h,
                "b2": d_logits.sum(axis=0),
            }
            d_h = (d_logits @ params["w2"]) * (h_pre > 0)
            grads["w1"] = d_h.T @ x
            grads["b1"] = d_h.sum(axis=0)
            step += 1
            for k in params:  # Adam
                moment1[k] = 0.9 * moment1[k] + 0.1 * grads[k]
                moment2[k] = 0.999 * moment2[k] + 0.001 * grads[k] ** 2
                m_hat = moment1[k] / (1 - 0.9**step)
                v_hat = moment2[k] / (1 - 0.999**step)
                params[k] -= LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)
    from vcp_toolkit.model.builtin import DEMO_MODEL_NAME

    return Model(
        name=DEMO_MODEL_NAME,
        layers=(Dense(params["w1"], params["b1"]), ReLU(), Dense(params["w2"], params["b2"])),
    )


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels))


def main(argv: list[str] | None = None) -> None:
    from vcp_toolkit.model.builtin import FLOAT_WEIGHTS, QUANTIZED_WEIGHTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FLOAT_WEIGHTS.parent)
    args = parser.parse_args(argv)
    model = train()
    float_path = args.out / FLOAT_WEIGHTS.name
    model.save(float_path)
    split = load_digits_split()
    qmodel = quantize(
        model, split.x_train, INPUT_SCALE,
        metadata={"source": float_path.name, "source_sha256": file_digest(float_path),
                  "calibration": "digits train split", "input_encoding": "pixel/16, int8 code 127 = 1.0"},
    )
    qmodel.save(args.out / QUANTIZED_WEIGHTS.name)
    acc_f = accuracy(np.argmax(model.forward(split.x_test), axis=1), split.y_test)
    acc_q = accuracy(qmodel.predict(qmodel.quantize_input(split.x_test)), split.y_test)
    print(f"{model.name}: {model.param_count} params, test accuracy float {acc_f:.4f}, quantized {acc_q:.4f}")


if __name__ == "__main__":
    main()
