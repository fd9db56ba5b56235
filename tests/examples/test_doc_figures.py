"""Every deterministic figure in README.md, SECURITY.md and docs/ is what the code measures now,
and every timing names the run that measured it (conventions: tests/docfigures.py).

Gas comes from one run on the embedded chain of the code paths that produced the figures: a small
`vcp bench` sweep (run_bench), the signed demo and the optimistic demo. A transaction that carries
random bytes (a fresh key, salts, a nonce, a signature) pays 12 gas less per zero byte, so its
figure may move by up to RANDOM between runs; every other figure must match exactly."""

from __future__ import annotations

import ast
import json
import math
import re
import secrets
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from docfigures import (NUMBER, REPO, Figure, Measured, locate, mismatch, missing_references, parse,
                        unlabelled_timings)

from vcp_toolkit.attest import files
from vcp_toolkit.bench import anchors
from vcp_toolkit.bench.costs import Prices
from vcp_toolkit.bench.graph_disputes import graph_dispute_gas, worst_by_kind
from vcp_toolkit.bench.runner import DEMO_WIDTHS, FULL, BenchConfig, run_bench
from vcp_toolkit.chain import gas
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.cli.context import MAX_INPUT_BYTES
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.demo.optimistic import run_optimistic_demo
from vcp_toolkit.demo.signed import run_demo
from vcp_toolkit.model import fixedpoint
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.onnx_import import MAX_ONNX_BYTES
from vcp_toolkit.model.synthetic import random_model
from vcp_toolkit.ops.submitter import FEE_BUMP_PERCENT

pytestmark = pytest.mark.chain

RANDOM = 8 * (gas.CALLDATA_NONZERO_BYTE - gas.CALLDATA_ZERO_BYTE)  # eight random calldata bytes that came out zero
# The bench's own sweep, cut to what the documents quote: the first model is the one of the trust
# table (its jobs are the contract's first), the second the demo model of the targets.
SWEEP = BenchConfig(models=((64, 16, 10), DEMO_WIDTHS), batch_sizes=(1, 1024), chains=("embedded",),
                    dispute_widths=FULL.dispute_widths, repeats=1, warmup=0, throughput_singles=1,
                    throughput_batches=1, zk_models=())
MIB = 2**20
ONNX_FIXTURES = REPO / "tests" / "fixtures" / "onnx"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
README, SECURITY, OPTIMISTIC = "README.md", "SECURITY.md", "docs/optimistic.md"
DOCS = [README, SECURITY, *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]


def row(first: str, cell: int, before: str = "", after: str = "") -> str:
    """The figure in cell ``cell`` (1 = the column after the first) of the table row starting
    ``| first |``, preceded in its cell by ``before`` and followed by ``after``."""
    skip = r"[^|\n]*\|" * (cell - 1)
    return rf"^\| {re.escape(first)} \|{skip} {before}{NUMBER}{after}"


CHEATS = {"wrong_output": "wrong final output", "wrong_hidden_layer": "wrong hidden layer",
          "other_weights": "other (unregistered) weights", "copied_output": "output copied from another job",
          "input_swapped": "input swapped"}
ONNX_ROWS = {"torch_flatten_torchscript": "torch.onnx TorchScript, Flatten + Gemm",
             "torch_flatten_dynamo": "torch.onnx dynamo, Reshape + Gemm",
             "torch_logsoftmax": "torch.onnx TorchScript / dynamo, LogSoftmax head, 64→48→24→10",
             "sklearn_mlp": "skl2onnx MLPClassifier (MatMul + Add, Softmax)",
             "keras_tf2onnx": "Keras 3 through tf2onnx (MatMul + Add, Softmax)",
             "handmade": "hand-built (Identity, Cast, Unsqueeze/Squeeze, Dropout, Softmax)"}
GAS_TARGETS = ["signed single attestation: gas / floor", "batched N=1024: amortized gas per inference",
               "batched N=1024: one inclusion check, gas", "fraud proof at width 64, gas",
               "fraud proof at width 1024, gas", "dispute gas / EZKL verify gas for the same model size"]
TRUST = "signed, one per tx", "signed, batched (N=1024)", "optimistic, no dispute", "optimistic, dispute"
DEMO = "gas: deploy registry / register model", "gas: submit attestation (floor, ratio)"
EZKL_ROWS = {"64→16→10": (64, 16, 10), "64→64→64→10": (64, 64, 64, 10), "784→128→10": (784, 128, 10)}

GRAPH_MODELS = {"lenet": "LeNet-5", "rescnn": "residual CNN", "vit": "ViT"}
GRAPH_ROWS = {"lenet": {"conv": "conv", "maxpool": "max pool", "flatten": "flatten", "dense": "dense"},
              "rescnn": {"conv": "conv", "add": "add", "gap": "global average pool", "flatten": "flatten",
                         "dense": "dense"},
              "vit": {"conv": "patch conv", "flatten": "reshape", "transpose": "transpose",
                      "prepend": "prepend class token", "const": "positional constant", "add": "residual add",
                      "layernorm": "LayerNorm", "token_dense": "token-wise dense",
                      "matmul": "MatMul (scores, weighted sum)", "softmax": "Softmax", "gelu": "GELU",
                      "take": "take class token", "dense": "classifier dense"}}
GRAPH_CELLS = {1: "gas", 2: "calldata_bytes", 3: "tiles"}

FIGURES = [
    # docs/optimistic.md: CNN disputes, worst case per operator kind, and reveals
    *(Figure(OPTIMISTIC, row(f"{GRAPH_MODELS[name]} | {label}", cell), f"graph dispute: {name} {kind} {key}")
      for name, kinds in GRAPH_ROWS.items() for kind, label in kinds.items() for cell, key in GRAPH_CELLS.items()),
    Figure(OPTIMISTIC, rf"costs {NUMBER} gas for LeNet-5", "graph reveal: lenet gas"),
    Figure(OPTIMISTIC, rf"LeNet-5 \({NUMBER} trace bytes\)", "graph reveal: lenet bytes"),
    Figure(OPTIMISTIC, rf"and {NUMBER}\s+for the residual CNN", "graph reveal: rescnn gas"),
    Figure(OPTIMISTIC, rf"residual CNN \({NUMBER} bytes\)", "graph reveal: rescnn bytes"),
    Figure(OPTIMISTIC, rf"Revealing a whole ViT trace on-chain costs\s+{NUMBER} gas", "graph reveal: vit gas"),
    Figure(OPTIMISTIC, rf"gas \({NUMBER} trace bytes in 54 tensors\)", "graph reveal: vit bytes"),
    Figure(OPTIMISTIC, rf"within its `revealGasBound` of {NUMBER}", "graph reveal: vit bound"),
    # README: the benchmark (targets, settings, the trust-model table, the anchors beside this run's EZKL)
    *(Figure(README, row(name, 1), f"target: {name}") for name in GAS_TARGETS[:-1]),
    Figure(README, row(GAS_TARGETS[-1] + " (worst case)", 1), f"target: {GAS_TARGETS[-1]}"),
    Figure(README, row("CNN fraud proof, costliest operator, gas (fresh accounts)", 1), "graph dispute: rescnn conv gas"),
    Figure(README, rf"LeNet-5's costliest is {NUMBER}", "graph dispute: lenet conv gas"),
    Figure(README, row("ViT fraud proof, costliest operator, gas (fresh accounts)", 1),
           "graph dispute: vit token_dense gas"),
    Figure(README, rf"slashed in one transaction of at most\s+{NUMBER} gas", "graph dispute: vit token_dense gas"),
    Figure("SECURITY.md", rf"the costliest ViT proof is {NUMBER} gas", "graph dispute: vit token_dense gas"),
    Figure("docs/models.md", row("LeNet-5, 75% of the channels", 1), "narrowed lenet 0.75: params"),
    Figure("docs/models.md", rf"optimistic fraud proofs cost at most {NUMBER} gas", "graph dispute: lenet conv gas"),
    Figure(README, r"medians of (\d+)\s+runs", "bench: repeats"),
    Figure(README, rf"costs are at {NUMBER} gwei", "bench: gwei"),
    Figure(README, rf"and \${NUMBER}/ETH", "bench: usd per eth"),
    Figure(README, row(TRUST[0], 4), "trust: signed single gas"),
    Figure(README, row(TRUST[1], 4), "trust: batched gas per inference"),
    Figure(README, row(TRUST[2], 4), "trust: happy gas"),
    Figure(README, row(TRUST[2], 5), "trust: finality blocks"),
    Figure(README, row(TRUST[3], 4), "trust: dispute gas"),
    Figure(README, r"^\| zk \(EZKL ([\d.]+)\)", "version: ezkl"),
    *(Figure(README, row(name, 1, r"[\d.]+ / "), f"anchor: {name} prove_s") for name in EZKL_ROWS),
    *(Figure(README, row(name, 2, r"[\d,]+ / "), f"anchor: {name} verify_gas") for name in EZKL_ROWS),
    Figure(README, r"solcjs ([\d.]+), every chain", "version: solc"),
    # README: the signed demo, the floor, the optimistic demo
    Figure(README, r"\| embedded \| Anvil ([\d.]+) \|", "version: anvil"),
    Figure(README, r"\| Anvil [\d.]+ \| Ganache ([\d.]+) \|", "version: ganache"),
    Figure(README, rf"digits 64→32→10, {NUMBER} params", "demo: params"),
    Figure(README, rf"float / fixed-point \| {NUMBER} / ", "demo: accuracy float"),
    Figure(README, rf"float / fixed-point \| [\d.]+% / {NUMBER} \|", "demo: accuracy fixed-point"),
    Figure(README, row(DEMO[0], 1), "demo: deploy registry"),
    Figure(README, row(DEMO[0], 1, r"[\d,]+ / "), "demo: register model"),
    Figure(README, row(DEMO[1], 1), "demo: submit"),
    Figure(README, row(DEMO[1], 1, r"[\d,]+ \("), "demo: floor"),
    Figure(README, row(DEMO[1], 1, r"[\d,]+ \([\d,]+, ", "x"), "demo: ratio"),
    Figure(README, rf"^- {NUMBER} for the transaction;", "floor: transaction"),
    Figure(README, rf"^- {NUMBER} for ecrecover;", "floor: ecrecover"),
    Figure(README, rf"^- {NUMBER} for one new storage slot", "floor: storage slot"),
    Figure(README, rf"vcp's extra {NUMBER} gas", "demo: submit over the floor"),
    *(Figure(README, row(label, 2), f"claim: {name}") for name, label in CHEATS.items()),
    *(Figure(README, row(label, 3), f"fraud proof: {name}") for name, label in CHEATS.items()),
    Figure(README, rf"a reveal request \({NUMBER} gas", "reveal request"),
    Figure(README, rf"then no answer within {NUMBER} blocks", "reveal window"),
    Figure(README, row("trace withheld", 3), "fraud proof: withheld_trace"),
    Figure(README, rf"open job {NUMBER};", "optimistic: open job"),
    Figure(README, rf"submit result {NUMBER};", "optimistic: submit result"),
    Figure(README, rf"finalize {NUMBER};", "optimistic: finalize"),
    Figure(README, rf"deploying the\s+contract {NUMBER}\.", "optimistic: deploy"),
    Figure(README, rf"\({NUMBER} against ~", "fraud proof: wrong_output"),
    Figure(README, rf"against {NUMBER}\)", "fraud proof: wrong_hidden_layer"),
    # README: ONNX import, chains, contracts, reliability
    *(Figure(README, row(label, 1), f"onnx agreement: {stem}") for stem, label in ONNX_ROWS.items()),
    *(Figure(README, row(label, 2), f"onnx difference: {stem}") for stem, label in ONNX_ROWS.items()),
    Figure(README, rf"may flip one sample \({NUMBER}\)", "onnx: one sample"),
    Figure(README, r"Ganache ([\d.]+)\s+supports nothing newer", "version: ganache"),
    Figure(README, r"The contracts are Solidity ([\d.]+),", "version: solc"),
    Figure(README, rf"replaced with a {NUMBER} higher fee", "fee bump"),
    # SECURITY.md
    Figure(SECURITY, rf"size caps of {NUMBER} MiB for attestations", "cap: attestation MiB"),
    Figure(SECURITY, rf"{NUMBER} MiB for ONNX", "cap: onnx MiB"),
    Figure(SECURITY, rf"{NUMBER} MiB for input files", "cap: input MiB"),
    Figure(SECURITY, rf"never more than the {NUMBER} MiB cap", "cap: attestation MiB"),
    Figure(SECURITY, rf"integers of more than {NUMBER} digits", "cap: integer digits"),
    Figure(SECURITY, rf"relative, 1-{NUMBER} printable characters", "cap: path characters"),
    Figure(SECURITY, rf"\({NUMBER} jobs, ", "honest jobs"),
    Figure(SECURITY, rf" jobs, {NUMBER} challenges\)", "honest challenges"),
    Figure(SECURITY, r"a flat 10\^(\d+)\s+wei", "reveal bond exponent"),
    Figure(SECURITY, rf"measured reveals\s+\({NUMBER} to ", "reveal test: fewest trace bytes"),
    Figure(SECURITY, rf"measured reveals\s+\([\d,]+ to {NUMBER} trace bytes\)", "reveal test: most trace bytes"),
    # docs/
    Figure("docs/encoding.md", rf"never more than {NUMBER} MiB", "cap: attestation MiB"),
    Figure("docs/encoding.md", rf"at most {NUMBER} digits", "cap: integer digits"),
    Figure("docs/encoding.md", rf"It is 1–{NUMBER} printable", "cap: path characters"),
    Figure("docs/arithmetic.md", rf"^\| layer width \(in and out\) \| \| 1\.\.{NUMBER} \|", "max width"),
    Figure("docs/arithmetic.md", rf"^\| layers \| \| 1\.\.{NUMBER} \|", "max layers"),
    Figure(OPTIMISTIC, rf"A claim costs about {NUMBER} gas", "claim: wrong_output"),
    Figure(OPTIMISTIC, rf"each costs its\s+sender {NUMBER} gas", "claim: another claimant's"),
    Figure(OPTIMISTIC, rf"real reveals from {NUMBER} to", "reveal test: fewest trace bytes"),
    Figure(OPTIMISTIC, rf"real reveals from [\d,]+ to\s+{NUMBER} trace bytes", "reveal test: most trace bytes"),
    Figure(OPTIMISTIC, r"\((\w+) full blocks in a row\)", "blocks to double the base fee"),
]


# ----------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, Measured]:
    """One run of every code path the documents quote; what each figure should be."""
    work = tmp_path_factory.mktemp("figures")
    bench = run_bench(SWEEP)
    signed = run_demo("embedded", out_dir=work / "signed", repeats=1)
    optimistic = run_optimistic_demo("embedded", out_dir=work / "optimistic")
    values = {**_bench_figures(bench), **_signed_figures(signed), **_optimistic_figures(optimistic),
              **_claims_by_others(), **_onnx_figures(), **_static_figures(), **_graph_figures(),
              **_narrowed_figures()}
    return values


def _narrowed_figures() -> dict[str, Measured]:
    from vcp_toolkit.bench.narrowed import narrowed
    from vcp_toolkit.model.builtin.graphs import builtin_graph

    return {"narrowed lenet 0.75: params": Measured(narrowed(builtin_graph("lenet"), 0.75).param_count)}


def _graph_figures() -> dict[str, Measured]:
    with open_chain("embedded") as chain:
        run = graph_dispute_gas(chain, tuple(GRAPH_MODELS))
    out = {}
    for name, model in run["models"].items():
        for kind, worst in worst_by_kind(model["disputes"]).items():
            out.update({f"graph dispute: {name} {kind} {key}": Measured(worst[key]) for key in GRAPH_CELLS.values()})
        out[f"graph reveal: {name} gas"] = Measured(model["reveal"]["gas"])
        out[f"graph reveal: {name} bytes"] = Measured(model["reveal"]["trace_bytes"])
        out[f"graph reveal: {name} bound"] = Measured(model["reveal"]["bound"])
    return out


def _bench_row(bench: dict[str, Any], mode: str, model: str, batch: int = 1) -> dict[str, Any]:
    return next(r for r in bench["rows"] if (r["mode"], r["model"], r["batch"]) == (mode, model, batch))


def _bench_figures(bench: dict[str, Any]) -> dict[str, Measured]:
    targets = {t["name"]: t["value"] for t in bench["targets"]}
    single = _bench_row(bench, "signed_single", "64->32->10")
    spreads = {GAS_TARGETS[0]: 2 * RANDOM / single["gas_floor"], GAS_TARGETS[1]: RANDOM / 1024,
               GAS_TARGETS[2]: RANDOM}
    values = {f"target: {name}": Measured(targets[name], spreads.get(name, 0)) for name in GAS_TARGETS}
    happy = _bench_row(bench, "optimistic_happy", "64->16->10")
    return {
        **values,
        "trust: signed single gas": Measured(_bench_row(bench, "signed_single", "64->16->10")["gas_per_tx"], RANDOM),
        "trust: batched gas per inference": Measured(
            _bench_row(bench, "signed_batched", "64->16->10", 1024)["gas_per_inference"], RANDOM / 1024),
        "trust: happy gas": Measured(happy["gas_per_tx"], 2 * RANDOM),  # open and answer carry random commitments
        "trust: finality blocks": Measured(happy["finality_blocks"]),
        "trust: dispute gas": Measured(_bench_row(bench, "optimistic_dispute", "64->16->10")["gas_per_tx"]),
    }


def _signed_figures(demo: dict[str, Any]) -> dict[str, Measured]:
    submit, floor = demo["gas"]["submit_attestation"], demo["gas_floor_submit"]
    return {
        "demo: params": Measured(demo["model"]["params"]),
        "demo: accuracy float": Measured(demo["model"]["accuracy_float"]),
        "demo: accuracy fixed-point": Measured(demo["model"]["accuracy_quantized"]),
        "demo: deploy registry": Measured(demo["gas"]["deploy"], RANDOM),  # the owner's fresh address
        "demo: register model": Measured(demo["gas"]["register_model"]),
        "demo: submit": Measured(submit, RANDOM),
        "demo: floor": Measured(floor, RANDOM),
        "demo: ratio": Measured(submit / floor, 2 * RANDOM / floor),
        "demo: submit over the floor": Measured(submit - floor),  # the calldata is in both: exact
    }


def _optimistic_figures(demo: dict[str, Any]) -> dict[str, Measured]:
    cheats = {c["name"]: c for c in demo["cheats"]}
    values = {}
    for name in CHEATS:
        values[f"claim: {name}"] = Measured(cheats[name]["gas_claim"], RANDOM)  # a hash of the claimant's evidence
        salted = name in ("copied_output", "input_swapped")  # the proof opens the input with its random salt
        values[f"fraud proof: {name}"] = Measured(cheats[name]["gas_fraud_proof"], RANDOM if salted else 0)
    return {
        **values,
        "fraud proof: withheld_trace": Measured(cheats["withheld_trace"]["gas_fraud_proof"]),
        "reveal request": Measured(cheats["withheld_trace"]["gas_reveal_request"]),
        "reveal window": Measured(demo["params"]["reveal_window"]),
        "optimistic: open job": Measured(demo["gas"]["open_job"], RANDOM),
        "optimistic: submit result": Measured(demo["gas"]["submit_result"], RANDOM),
        "optimistic: finalize": Measured(demo["gas"]["finalize"]),
        "optimistic: deploy": Measured(demo["gas"]["deploy"], RANDOM),  # the owner's fresh address
    }


def _claims_by_others() -> dict[str, Measured]:
    """The gas of a claim on a job someone else has claimed already (a junk claim)."""
    with open_chain("embedded") as chain:
        owner = Sender(chain)
        owner.ensure_funded()
        contract, _ = OptimisticInference.deploy(owner, OptimisticParams())
        commitment = ModelCommitment(demo_model())
        contract.register_model(owner, commitment)
        job_id, _ = contract.open_job(owner, commitment.root, secrets.token_bytes(32), 10**15)
        contract.submit_result(owner, job_id, secrets.token_bytes(32), secrets.token_bytes(32))
        claims = []
        for _ in range(2):
            claimant = Sender(chain)
            claimant.ensure_funded()
            claims.append(contract.claim_raw(claimant, job_id, secrets.token_bytes(32)).gas_used)
    return {"claim: another claimant's": Measured(claims[1], RANDOM)}


def _onnx_figures() -> dict[str, Measured]:
    """Top-1 agreement with onnxruntime and the largest output difference of the committed ONNX
    fixtures; onnxruntime's float32 kernels differ by CPU, so one sample may flip elsewhere."""
    from vcp_toolkit.model.datasets import load_digits_split
    from vcp_toolkit.model.onnx_import import import_onnx
    from vcp_toolkit.model.onnx_io import agreement, quantize_imported

    split = load_digits_split()
    values = {}
    for stem in ONNX_ROWS:
        paths = sorted(ONNX_FIXTURES.glob(f"{stem}*.onnx"))  # torch_logsoftmax: both exporters, one row
        results = []
        for path in paths:
            imported = import_onnx(path)
            qmodel = quantize_imported(imported, split.x_train, {"calibration": "digits train split"})
            results.append(agreement(path, imported, qmodel, split.x_test))
        assert results, f"no fixture {stem}*.onnx in {ONNX_FIXTURES}"
        values[f"onnx agreement: {stem}"] = Measured(min(r.top1_agreement for r in results), 1 / len(split.x_test))
        values[f"onnx difference: {stem}"] = Measured(max(r.max_abs_diff for r in results), 0.01)
    values["onnx: one sample"] = Measured(1 / len(split.x_test))
    return values


def _static_figures() -> dict[str, Measured]:
    """Figures fixed by constants, the pinned tools and the tests themselves."""
    tools = json.loads((REPO / "package.json").read_text())["devDependencies"]
    ezkl = re.search(r"^ezkl==([\d.]+)$", (REPO / "constraints.txt").read_text(), flags=re.M)
    jobs, checks = _honest_test_size()
    fewest, most = _reveal_test_trace_bytes()
    values = {
        "version: anvil": tools["@foundry-rs/anvil"], "version: ganache": tools["ganache"],
        "version: solc": tools["solc"], "version: ezkl": ezkl.group(1) if ezkl else "not pinned",
        "bench: repeats": FULL.repeats, "bench: gwei": Prices().gas_price_gwei, "bench: usd per eth": Prices().eth_usd,
        "floor: transaction": gas.TX_BASE, "floor: ecrecover": gas.ECRECOVER,
        "floor: storage slot": gas.NEW_STORAGE_SLOT,
        "fee bump": (FEE_BUMP_PERCENT - 100) / 100,
        "cap: attestation MiB": files.MAX_FILE_BYTES / MIB, "cap: onnx MiB": MAX_ONNX_BYTES / MIB,
        "cap: input MiB": MAX_INPUT_BYTES / MIB, "cap: integer digits": files.MAX_INT_DIGITS,
        "cap: path characters": files.MAX_PATH_CHARS,
        "max width": fixedpoint.MAX_WIDTH, "max layers": fixedpoint.MAX_LAYERS,
        "honest jobs": jobs, "honest challenges": checks,
        "reveal bond exponent": math.log10(OptimisticParams().reveal_bond),  # not a whole number unless 10**k
        "reveal test: fewest trace bytes": fewest, "reveal test: most trace bytes": most,
        # EIP-1559: the base fee rises by at most 1/8 a block, so it doubles after this many full blocks
        "blocks to double the base fee": WORDS[next(n for n in count(1) if (9 / 8) ** n >= 2)],
    }
    for name, widths in EZKL_ROWS.items():
        values[f"anchor: {name} prove_s"] = anchors.EZKL_MEASURED[widths]["prove_s"]
        values[f"anchor: {name} verify_gas"] = anchors.EZKL_MEASURED[widths]["verify_gas"]
    return {key: Measured(value) for key, value in values.items()}


def _honest_test_size() -> tuple[int, int]:
    """(jobs, challenges) of tests/chain/test_optimistic.py's honest-prover test, read from its source."""
    source = (REPO / "tests" / "chain" / "test_optimistic.py").read_text()
    total = re.search(r"assert tried == (\d+) \* (\d+)", source)
    assert total, "tests/chain/test_optimistic.py no longer counts its honest challenges (`assert tried == J * C`)"
    return int(total.group(1)), int(total.group(1)) * int(total.group(2))


def _reveal_test_trace_bytes() -> tuple[int, int]:
    """The smallest and largest trace (input width + neurons) of the reveal-bond test's models."""
    tree = ast.parse((REPO / "tests" / "chain" / "test_review_attacks.py").read_text())
    test = next(node for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name == "test_the_reveal_bond_pays_for_the_reveal")
    widths = next(ast.literal_eval(d.args[1]) for d in test.decorator_list
                  if isinstance(d, ast.Call) and d.args and ast.literal_eval(d.args[0]) == "widths")
    sizes = [w[0] + sum(w[1:]) for w in widths]
    return min(sizes), max(sizes)


# ----------------------------------------------------------------------------- the checks


@pytest.mark.parametrize("figure", FIGURES, ids=str)
def test_the_figure_is_what_the_code_measures(figure, measured):
    written = locate(figure)
    problem = mismatch(figure, written, measured[figure.key])
    assert problem is None, problem


@pytest.mark.parametrize("file", DOCS)
def test_every_timing_names_its_run(file):
    problems = unlabelled_timings(file)
    assert not problems, ("a timing without its run (write `run of YYYY-MM-DD: `command`` in the paragraph, or "
                          "above the table):\n" + "\n".join(problems))


def test_figures_are_read_as_written_and_timings_need_their_run():
    assert (parse("2,083,651").value, parse("2,083,651").half_unit) == (2_083_651, 0)  # exact
    assert (parse("~71k").value, parse("~71k").half_unit) == (71_000, 500)
    assert (parse("~9,600").value, parse("~9,600").half_unit) == (9_600, 50)
    assert parse("97.21%").value == pytest.approx(0.9721) and parse("57.69").half_unit == pytest.approx(0.005)
    assert parse("1.7.1").value == "1.7.1"
    stale = Figure("README.md", "", "fraud proof")
    assert mismatch(stale, parse("113,096"), Measured(115_318)) is not None  # the review's 2,222 gas
    assert mismatch(stale, parse("59,804"), Measured(59_792, RANDOM)) is None
    bare = "Proving takes 5.0 s.\n\n| a | time |\n|---|---|\n| x | 3 ms |\n"
    assert len(unlabelled_timings("x.md", bare)) == 2
    table = bare.split("\n\n")[1]
    labelled = f"It takes 5.0 s (run of 2026-11-23: `vcp bench`).\n\nIn the run of 2026-11-23: `vcp demo`:\n\n{table}"
    assert unlabelled_timings("x.md", labelled) == []
    assert unlabelled_timings("x.md", "It took 3 s (run of 2999-01-01: `make test`).") != []  # not yet run


def test_the_reveal_bound_formula_in_the_docs_is_the_contracts(embedded_chain):
    """docs/optimistic.md's formula, evaluated, equals `revealGasBound` for models of every shape."""
    text = (REPO / OPTIMISTIC).read_text()
    formula = re.search(r"^\s+(85,000 \+ .*)$", text, flags=re.M)
    assert formula, "docs/optimistic.md no longer shows the reveal bound as a formula"
    expression = formula.group(1).replace(",", "").replace("/", "//")
    assert re.fullmatch(r"[\w\s+*()/]+", expression), expression  # arithmetic on two names, nothing else
    owner = Sender(embedded_chain)
    owner.ensure_funded()
    contract, _ = OptimisticInference.deploy(owner, OptimisticParams())
    for widths in ([3, 2], [64, 32, 10], [300, 40, 7, 5]):
        commitment = ModelCommitment(random_model(widths, seed=len(widths)))
        contract.register_model(owner, commitment)
        names = {"layers": len(widths) - 1, "traceBytes": sum(widths)}
        documented = eval(expression, {"__builtins__": {}}, names)  # only the doc's arithmetic
        assert documented == contract.reveal_gas_bound(commitment.root), (widths, formula.group(1))


def test_the_anchors_page_shows_the_figures_the_bench_compares_with():
    """docs/anchors.md lists exactly the constants of vcp_toolkit.bench.anchors."""
    text = (REPO / "docs" / "anchors.md").read_text()
    assert anchors.EZKL_VERSION in text
    for widths, row_values in anchors.EZKL_MEASURED.items():
        name = " → ".join(map(str, widths))
        line = next((l for l in text.splitlines() if l.startswith(f"| {name} |")), None)
        assert line, f"docs/anchors.md has no row for {name}"
        cells = [parse(c.strip()).value for c in line.strip("|").split("|")[1:]]
        expected = [row_values[k] for k in ("params", "setup_s", "prove_s", "verify_s", "proof_bytes", "verify_gas",
                                            "deploy_gas")]
        assert cells == expected, f"docs/anchors.md, {name}: {cells} != {expected} (vcp_toolkit/bench/anchors.py)"
    for system, cited in anchors.CITED_VERIFY_GAS.items():
        line = next((l for l in text.splitlines() if l.startswith(f"| {system} |")), None)
        assert line and parse(line.split("|")[2].strip()).value == cited, f"docs/anchors.md: {system} {cited}"


@pytest.mark.parametrize("file", DOCS)
def test_no_document_points_at_a_missing_file_or_name(file):
    """Every path, [link](path) and `vcp_toolkit.name` in the document exists (none says ANCHORS.md)."""
    missing = missing_references(file)
    assert not missing, "the document cites what the repository does not have:\n" + "\n".join(missing)
