"""The ``vcp`` argument parser: one function per group of commands, shared options once."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcp_toolkit import __version__
from vcp_toolkit.cli.exchange import add_exchange_arg, add_exchange_parser
from vcp_toolkit.cli.serve_http import add_http_serve_args, add_load_args
from vcp_toolkit.cli.options import (NODE_URL_HELP, VERIFY_EXIT_CODES, Commands, Parser, add_chain_args,
                                     add_deployments_arg, add_hardfork_arg, add_journal_arg, add_json_arg, add_key_args,
                                     add_model_arg, add_node_args, add_verbose_arg)

# ---------------------------------------------------------------- groups


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on a chain and print what it costs")
    add_chain_args(p)
    p.add_argument("--mode", choices=("signed", "optimistic", "zk", "network"), default="signed",
                   help="signed: EIP-712 attestation checked by the registry (default); optimistic: bonded "
                        "jobs, an honest one finalized and every cheat caught by a one-transaction fraud proof; "
                        "zk: the same model proven with EZKL and verified on-chain, next to the other two "
                        "(needs pip install 'vcp-toolkit[zk]'); network: Anvil, 2 stores, 3 provers (1 lying), "
                        "2 watchers and a requester as separate processes on 127.0.0.x, with crashes injected")
    p.add_argument("--jobs", type=int, default=200, help="network: jobs the requester opens, 1..359 (default: 200)")
    p.add_argument("--no-faults", action="store_true", help="network: kill and restart nothing")
    p.add_argument("--srs", type=Path, help="zk: a real structured reference string (default: generated locally, "
                                            "UNSAFE for production)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--out", type=Path, default=Path(".vcp/demo"), help="folder for the attestation files")
    p.add_argument("--repeats", type=int, default=51, help="repeats per timing (median reported)")
    p.add_argument("--model", choices=("digits", "lenet", "rescnn", "vit"), default="digits",
                   help="digits: the built-in 8x8-digits MLP (default); lenet, rescnn: the built-in MNIST 28x28 CNNs; "
                        "vit: the built-in tiny vision transformer (signed and optimistic modes)")


def _add_prove(sub) -> None:
    p = sub.add_parser("prove", help="run the model on one input; write the attestation and its trace bundle")
    add_model_arg(p)
    p.add_argument("--input", required=True,
                   help="digits:N (test-split sample N; mnist:N for the 28x28 CNNs), or a .npy / .json file of "
                        "float inputs (a CNN's image in C, H, W order)")
    p.add_argument("--int8", action="store_true", help="the input file already holds int8 codes")
    p.add_argument("--out", type=Path, required=True, help="attestation file to write (bundle goes beside it)")
    p.add_argument("--rpc-url", help="take chainId and registry address from this node and the deployments file")
    add_deployments_arg(p)
    p.add_argument("--chain-id", type=int, help="EIP-712 chainId (with --registry, to prove offline)")
    p.add_argument("--registry", help="AttestationRegistry address (with --chain-id)")
    p.add_argument("--job-id", default="0x" + "00" * 32, help="bytes32 job id (default zero)")
    p.add_argument("--backend", choices=("signed", "zk"), default="signed",
                   help="signed: EIP-712 signature (default); zk: an EZKL proof (pip install 'vcp-toolkit[zk]')")
    p.add_argument("--srs", type=Path, help="zk: a real SRS (default: generated locally, UNSAFE)")
    add_key_args(p)
    add_journal_arg(p)


def _add_verify(sub) -> None:
    p = sub.add_parser("verify", help="check a single, batch or zk attestation file; exit 0 valid, 1 invalid, "
                                      "2 usage, 3 could not check",
                       description="Re-execute and check an attestation file of any kind (single, batch or zk: "
                                   "its format header decides). With --rpc-url, also check that the registry "
                                   "recorded it.",
                       epilog=VERIFY_EXIT_CODES)
    p.add_argument("attestation", type=Path, help="the single, batch or zk attestation file")
    p.add_argument("--bundle", type=Path, help="trace or batch bundle (default: the one the file names, which must "
                                                "be a regular file inside the file's folder)")
    add_model_arg(p)
    p.add_argument("--prover", help="also require this signer address (single and batch files)")
    p.add_argument("--backend", choices=("signed", "zk"),
                   help="optional: require a signed (single or batch) or a zk file; the file's format decides")
    p.add_argument("--rpc-url", help="also check that the registry recorded it (exit 3 if the node cannot be reached)")
    add_deployments_arg(p)
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _add_landing(sub) -> None:
    p = sub.add_parser("submit", help="send an attestation to the registry of a running node")
    p.add_argument("attestation", type=Path, help="the attestation, batch or zk file to land")
    p.add_argument("--backend", choices=("signed", "zk"), default="signed",
                   help="accepted for symmetry: the file's own format decides")
    add_node_args(p)
    add_key_args(p)
    add_journal_arg(p)
    add_json_arg(p)

    p = sub.add_parser("status", help="what the journal holds: pending, sent, landed, failed (with reasons)")
    add_journal_arg(p)
    add_json_arg(p)

    p = sub.add_parser("resume", help="land every journaled attestation of this chain that has not landed")
    add_node_args(p)
    add_key_args(p)
    add_journal_arg(p)

    p = sub.add_parser("run", help="prove a range of inputs and land every attestation; safe to kill and rerun")
    p.add_argument("--inputs", required=True, help="digits:A-B (test-split samples A..B-1)")
    add_node_args(p)
    p.add_argument("--out", type=Path, required=True, help="directory for the attestation files")
    add_model_arg(p)
    add_key_args(p)
    add_journal_arg(p)


def _add_deploy(sub) -> None:
    p = sub.add_parser("deploy", help="deploy the registry to a running node, register the model, authorise provers")
    add_node_args(p, "the node (start one with `vcp node anvil`)")
    add_model_arg(p)
    p.add_argument("--prover", action="append", default=[],
                   help="address to authorise (repeatable; default: the deploying key's own address)")
    p.add_argument("--prover-bond-wei", type=int, default=10**17, help="optimistic: bond per result")
    p.add_argument("--challenge-bond-wei", type=int, default=10**16, help="optimistic: bond per fraud proof")
    p.add_argument("--challenge-window", type=int, default=20, help="optimistic: blocks to challenge a result")
    p.add_argument("--reveal-window", type=int, default=10, help="optimistic: blocks to answer a reveal request")
    p.add_argument("--answer-window", type=int, default=50, help="optimistic: blocks to answer an open job")
    p.add_argument("--zk", action="store_true", help="also set up the EZKL circuit of the model and deploy its "
                                                     "verifier (pip install 'vcp-toolkit[zk]')")
    p.add_argument("--srs", type=Path, help="zk: a real SRS (default: generated locally, UNSAFE)")
    add_key_args(p)
    add_json_arg(p)


def _add_optimistic(sub) -> None:
    for name, text in (("serve", "answer optimistic jobs for a model, publish bundles, reveal on request; "
                                "with --http, answer inference requests over HTTP with attested results"),
                       ("watch", "re-execute every optimistic result and prove the first wrong one on-chain")):
        p = sub.add_parser(name, help=text)
        optimistic_only = name == "watch"  # `vcp serve --http` needs none of these (checked in cmd_serve)
        add_node_args(p, required=optimistic_only)
        add_exchange_arg(p, "where inputs and trace bundles are published", required=optimistic_only)
        p.add_argument("--state", type=Path, required=optimistic_only, help="progress file: a restart resumes from it")
        add_model_arg(p)
        p.add_argument("--once", action="store_true", help="one pass, then exit")
        p.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
        add_key_args(p)
        add_journal_arg(p)
        if name == "serve":
            _add_cheat_args(p)
            add_http_serve_args(p)

    p = sub.add_parser("request", help="publish an input and open an optimistic job for it")
    add_node_args(p)
    add_exchange_arg(p, "where the input is published")
    add_model_arg(p)
    p.add_argument("--input", required=True, help="digits:N, or a .npy / .json file of float inputs")
    p.add_argument("--int8", action="store_true", help="the input file already holds int8 codes")
    p.add_argument("--fee-wei", type=int, default=10**16, help="the job's fee in wei, escrowed until it is final")
    p.add_argument("--count", type=int, default=1, help="open this many jobs, for samples K, K+1, ... of "
                   "--input digits:K or mnist:K (default: 1)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds to wait between jobs (default: 0)")
    add_key_args(p)
    add_json_arg(p, "the job, the requester and what the contract owes it")

    p = sub.add_parser("withdraw", help="withdraw what the optimistic contract owes your key")
    add_node_args(p)
    p.add_argument("--dry-run", action="store_true", help="only show what the contract owes the key; send nothing")
    add_key_args(p)
    add_json_arg(p)


SERVE_CHEATS = ("wrong_output", "wrong_hidden_layer", "other_weights", "input_swapped", "withheld_trace")


def _add_cheat_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cheat", choices=SERVE_CHEATS,
                   help="FOR DEMONSTRATIONS: play a dishonest prover with this lie (see docs/optimistic.md); "
                        "warns at start and marks each cheated answer; a job lied on once is answered "
                        "honestly when it re-opens (default: honest)")
    p.add_argument("--cheat-every", type=int, metavar="N",
                   help="with --cheat: lie only on jobs whose id is a multiple of N, answer the others honestly "
                        "(default: 1, every job)")


def _add_measure(sub) -> None:
    p = sub.add_parser("bench", help="measure every trust model on the same models and chains; write JSON and CSV")
    add_load_args(p)
    p.add_argument("--quick", action="store_true", help="the small preset (about a minute here)")
    p.add_argument("--chains", help="comma-separated subset of embedded,anvil,ganache")
    add_hardfork_arg(p)
    p.add_argument("--schedules", default="shanghai,prague,osaka",
                   help="schedules on which the same transactions also run, side by side (Osaka needs anvil in "
                        "--chains; an empty value skips them)")
    p.add_argument("--repeats", type=int, help="timing repeats (median reported)")
    p.add_argument("--gas-price-gwei", type=float, default=1.0, help="gas price for the cost columns")
    p.add_argument("--eth-usd", type=float, default=3000.0, help="ETH price in dollars for the cost columns")
    p.add_argument("--out", type=Path, default=Path(".vcp/bench"), help="folder for bench.json and bench.csv")
    _add_fee_param(p)
    add_json_arg(p, "the whole result (with `targets`) instead of the targets table")

    p = sub.add_parser("report", help="render a bench result as a self-contained HTML report with plots")
    p.add_argument("--bench", type=Path, default=Path(".vcp/bench"), help="a bench.json, or the folder holding it")
    p.add_argument("--out", type=Path, help="folder for report.html and its PNG plots (a path ending in .html "
                                            "names the report itself) (default: the folder of the bench.json)")
    p.add_argument("--markdown", action="store_true", help="print the headline tables as Markdown instead")
    _add_fee_param(p)
    add_json_arg(p, "where the report was written")


def _add_fee_param(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fee-param", action="append", default=[], metavar="NAME=VALUE",
                   help="override one fee parameter of the dollar table (repeatable), e.g. eth_usd=2500 or "
                        "l1_base_fee_wei=5000000000; names and dated defaults in docs/fees.md "
                        "(default: vcp_toolkit/chain/fee_params.json, or what the bench recorded)")


def _add_models(sub) -> None:
    p = sub.add_parser("inspect", help="import an ONNX model, a CNN or a vision transformer: layers, quantization, "
                                       "agreement with onnxruntime")
    p.add_argument("model", help="the .onnx file (dense, CNN or vision transformer), a built-in model (lenet, rescnn, "
                                 "vit) or an operator-graph file")
    p.add_argument("--calibration", type=Path, help="sample inputs (.npy/.npz) for the scales and the agreement")
    p.add_argument("--validation", type=Path, help="other inputs (.npy/.npz) to measure agreement on")
    p.add_argument("--eval", metavar="N|FILE", help="held-out inputs to measure agreement on: N, the first N held-out "
                   "MNIST test images with their labels (1x28x28 models), or a file of .npy images, or .npz with 'x' "
                   "and optional labels 'y' (with labels, accuracy too)")
    p.add_argument("--output", help="which graph output is the model's (when there are several)")
    add_json_arg(p)

    p = sub.add_parser("export", help="write the quantized model as ONNX (float semantics of the integer model)")
    add_model_arg(p)
    p.add_argument("--out", type=Path, required=True, help="the .onnx file to write")

    from vcp_toolkit.cli.graphs import add_graph_parsers  # vcp quantize

    add_graph_parsers(sub)


def _add_setup(sub) -> None:
    p = sub.add_parser("keygen", help="create an encrypted keystore with a new key")
    p.add_argument("--out", type=Path, required=True, help="the keystore file to write (eth-account's format)")
    p.add_argument("--kdf", choices=("scrypt", "pbkdf2"), default="scrypt",
                   help="key derivation for the password (scrypt is slower to attack)")

    p = sub.add_parser("node", help="run Anvil or Ganache from the project's npm install until Ctrl-C")
    p.add_argument("kind", choices=("anvil", "ganache"), help="which node to run")
    p.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on: another loopback address "
                   "(127.0.0.2, ...) keeps it on this machine (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port on --host to listen on; a busy port is an error "
                                            "(default: 8545, or a free port when 8545 is taken)")
    p.add_argument("--block-time", type=float, metavar="SECONDS", help="mine a block every SECONDS (transactions "
                   "wait for it), so optimistic windows close by themselves (default: a block per transaction)")
    add_hardfork_arg(p)

    p = sub.add_parser("mine", help="advance a dev node (Anvil, Ganache) by N blocks now, e.g. to close a window")
    p.add_argument("--blocks", type=int, default=1, help="how many blocks to mine, 1..100,000")
    p.add_argument("--rpc-url", required=True, help=NODE_URL_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="vcp", description="Verifiable off-chain inference: prove, attest, verify, measure.")
    parser.add_argument("--version", action="version", version=f"vcp {__version__}")
    add_verbose_arg(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, action=Commands)
    sub.required = True
    from vcp_toolkit.cli.estimate import add_estimate_parser

    for add in (_add_demo, _add_prove, _add_verify, _add_landing, _add_deploy, _add_optimistic, _add_measure,
                add_estimate_parser, _add_models, _add_setup, add_exchange_parser):
        add(sub)
    return parser
