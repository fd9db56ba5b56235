"""The ``vcp`` command line. Every error is one line on stderr and a non-zero exit, no traceback
(set VCP_DEBUG=1 to see one). Exit codes: 0 ok, 1 failed or invalid, 2 bad usage or input."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vcp import __version__
from vcp.errors import InvalidInput, VcpError, VerificationFailed

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(InvalidInput):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _add_chain_args(p: argparse.ArgumentParser, default: str | None = "embedded") -> None:
    p.add_argument("--chain", choices=("embedded", "anvil", "ganache"), default=default,
                   help="embedded: in-process py-evm (default); anvil/ganache: started from the project's npm "
                        "install on 127.0.0.1 at a free port and stopped afterwards")
    p.add_argument("--rpc-url", help="use an already-running node instead (overrides --chain)")


def _add_key_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keystore", type=Path,
                   help="encrypted keystore file (password from $VCP_KEYSTORE_PASSWORD or a prompt); "
                        "without it the key comes from $VCP_PRIVATE_KEY")


DEFAULT_JOURNAL = Path(".vcp/journal.sqlite")
MAX_INPUT_BYTES = 16 * 2**20


def _add_journal_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--journal", type=Path, default=DEFAULT_JOURNAL,
                   help="SQLite journal of everything produced and sent (default .vcp/journal.sqlite)")


def _add_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path,
                   help="an ONNX file (.onnx) or a vcp quantized model (.q.npz); default: the built-in digits model")
    p.add_argument("--calibration", type=Path,
                   help="for .onnx models: sample inputs (.npy/.npz) that set the quantization scales "
                        "(default: 512 standard-normal samples, seed 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vcp", description="Verifiable off-chain inference: prove, attest, verify, measure.")
    parser.add_argument("--version", action="version", version=f"vcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("demo", help="run the whole pipeline on a chain and print what it costs")
    _add_chain_args(p)
    p.add_argument("--mode", choices=("signed", "optimistic", "zk"), default="signed",
                   help="signed: EIP-712 attestation checked by the registry (default); optimistic: bonded "
                        "jobs, an honest one finalized and every cheat caught by a one-transaction fraud proof; "
                        "zk: the same model proven with EZKL and verified on-chain, next to the other two "
                        "(needs pip install 'vcp[zk]')")
    p.add_argument("--srs", type=Path, help="zk: a real structured reference string (default: generated locally, "
                                            "UNSAFE for production)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--out", type=Path, default=Path(".vcp/demo"), help="where the attestation files go")
    p.add_argument("--repeats", type=int, default=51, help="repeats per timing (median reported)")

    p = sub.add_parser("prove", help="run the model on one input; write the attestation and its trace bundle")
    _add_model_arg(p)
    p.add_argument("--input", required=True,
                   help="digits:N (test-split sample N), or a .npy / .json file of float inputs")
    p.add_argument("--int8", action="store_true", help="the input file already holds int8 codes")
    p.add_argument("--out", type=Path, required=True, help="attestation file to write (bundle goes beside it)")
    p.add_argument("--rpc-url", help="take chainId and registry address from this node and the deployments file")
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    p.add_argument("--chain-id", type=int, help="EIP-712 chainId (with --registry, to prove offline)")
    p.add_argument("--registry", help="AttestationRegistry address (with --chain-id)")
    p.add_argument("--job-id", default="0x" + "00" * 32, help="bytes32 job id (default zero)")
    p.add_argument("--backend", choices=("signed", "zk"), default="signed",
                   help="signed: EIP-712 signature (default); zk: an EZKL proof (pip install 'vcp[zk]')")
    p.add_argument("--srs", type=Path, help="zk: a real SRS (default: generated locally, UNSAFE)")
    _add_key_args(p)
    _add_journal_arg(p)

    p = sub.add_parser("verify", help="check a single, batch or zk attestation file; exit 0 valid, 1 invalid, "
                                      "2 usage, 3 could not check",
                       description="Re-execute and check an attestation file of any kind (single, batch or zk: "
                                   "its format header decides). With --rpc-url, also check that the registry "
                                   "recorded it.",
                       epilog=VERIFY_EXIT_CODES)
    p.add_argument("attestation", type=Path)
    p.add_argument("--bundle", type=Path, help="trace or batch bundle (default: the one the file names, which must "
                                                "be a regular file inside the file's folder)")
    _add_model_arg(p)
    p.add_argument("--prover", help="also require this signer address (single and batch files)")
    p.add_argument("--backend", choices=("signed", "zk"),
                   help="optional: require a signed (single or batch) or a zk file; the file's format decides")
    p.add_argument("--rpc-url", help="also check that the registry recorded it (exit 3 if the node cannot be reached)")
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")

    p = sub.add_parser("submit", help="send an attestation to the registry of a running node")
    p.add_argument("attestation", type=Path)
    p.add_argument("--backend", choices=("signed", "zk"), default="signed",
                   help="accepted for symmetry: the file's own format decides")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    _add_key_args(p)
    _add_journal_arg(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("status", help="what the journal holds: pending, sent, landed, failed (with reasons)")
    _add_journal_arg(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("resume", help="land every journaled attestation of this chain that has not landed")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    _add_key_args(p)
    _add_journal_arg(p)

    p = sub.add_parser("run", help="prove a range of inputs and land every attestation; safe to kill and rerun")
    p.add_argument("--inputs", required=True, help="digits:A-B (test-split samples A..B-1)")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    p.add_argument("--out", type=Path, required=True, help="directory for the attestation files")
    _add_model_arg(p)
    _add_key_args(p)
    _add_journal_arg(p)

    p = sub.add_parser("deploy", help="deploy the registry to a running node, register the model, authorise provers")
    p.add_argument("--rpc-url", required=True, help="the node (start one with `vcp node anvil`)")
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    _add_model_arg(p)
    p.add_argument("--prover", action="append", default=[], help="address to authorise (repeatable)")
    p.add_argument("--prover-bond-wei", type=int, default=10**17, help="optimistic: bond per result")
    p.add_argument("--challenge-bond-wei", type=int, default=10**16, help="optimistic: bond per fraud proof")
    p.add_argument("--challenge-window", type=int, default=20, help="optimistic: blocks to challenge a result")
    p.add_argument("--reveal-window", type=int, default=10, help="optimistic: blocks to answer a reveal request")
    p.add_argument("--zk", action="store_true", help="also set up the EZKL circuit of the model and deploy its "
                                                     "verifier (pip install 'vcp[zk]')")
    p.add_argument("--srs", type=Path, help="zk: a real SRS (default: generated locally, UNSAFE)")
    _add_key_args(p)
    p.add_argument("--json", action="store_true")

    for name, text in (("serve", "answer optimistic jobs for a model, publish bundles, reveal on request"),
                       ("watch", "re-execute every optimistic result and prove the first wrong one on-chain")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--rpc-url", required=True)
        p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
        p.add_argument("--exchange", type=Path, required=True, help="shared directory for inputs and trace bundles")
        p.add_argument("--state", type=Path, required=True, help="progress file: a restart resumes from it")
        _add_model_arg(p)
        p.add_argument("--once", action="store_true", help="one pass, then exit")
        p.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
        _add_key_args(p)
        _add_journal_arg(p)

    p = sub.add_parser("request", help="publish an input and open an optimistic job for it")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    p.add_argument("--exchange", type=Path, required=True)
    _add_model_arg(p)
    p.add_argument("--input", required=True, help="digits:N, or a .npy / .json file of float inputs")
    p.add_argument("--int8", action="store_true")
    p.add_argument("--fee-wei", type=int, default=10**16)
    _add_key_args(p)

    p = sub.add_parser("withdraw", help="withdraw what the optimistic contract owes your key")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--deployments", type=Path, default=Path("deployments.json"))
    _add_key_args(p)

    p = sub.add_parser("bench", help="measure every trust model on the same models and chains; write JSON and CSV")
    p.add_argument("--quick", action="store_true", help="the small preset (about a minute here)")
    p.add_argument("--chains", help="comma-separated subset of embedded,anvil,ganache")
    p.add_argument("--repeats", type=int, help="timing repeats (median reported)")
    p.add_argument("--gas-price-gwei", type=float, default=1.0, help="for the cost columns (default 1 gwei)")
    p.add_argument("--eth-usd", type=float, default=3000.0, help="for the cost columns (default $3,000)")
    p.add_argument("--out", type=Path, default=Path(".vcp/bench"), help="directory for bench.json and bench.csv")
    p.add_argument("--json", action="store_true", help="also print the result (with `targets`) as JSON")

    p = sub.add_parser("report", help="render a bench result as a self-contained HTML report with plots")
    p.add_argument("--bench", type=Path, default=Path(".vcp/bench/bench.json"))
    p.add_argument("--out", type=Path, default=Path(".vcp/bench/report.html"))
    p.add_argument("--markdown", action="store_true", help="print the headline tables as Markdown instead")

    p = sub.add_parser("inspect", help="import an ONNX model: layers, quantization, agreement with onnxruntime")
    p.add_argument("model", type=Path, help="the .onnx file")
    p.add_argument("--calibration", type=Path, help="sample inputs (.npy/.npz) for the scales and the agreement")
    p.add_argument("--validation", type=Path, help="other inputs (.npy/.npz) to measure agreement on")
    p.add_argument("--output", help="which graph output is the model's (when there are several)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="write the quantized model as ONNX (float semantics of the integer model)")
    _add_model_arg(p)
    p.add_argument("--out", type=Path, required=True)

    p = sub.add_parser("keygen", help="create an encrypted keystore with a new key")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--kdf", choices=("scrypt", "pbkdf2"), default="scrypt")

    p = sub.add_parser("node", help="run Anvil or Ganache from the project's npm install until Ctrl-C")
    p.add_argument("kind", choices=("anvil", "ganache"))
    p.add_argument("--port", type=int, default=8545)
    return parser


# ---------------------------------------------------------------- helpers


def _load_model(path: Path | None, calibration: Path | None = None):
    from vcp.model.builtin import demo_model
    from vcp.model.quantize import QuantizedModel

    if path is None:
        if calibration is not None:
            raise InvalidInput("--calibration applies to .onnx models only")
        return demo_model()
    if Path(path).suffix.lower() == ".onnx":
        from vcp.model.onnx_io import load_onnx_model

        return load_onnx_model(path, calibration)
    if calibration is not None:
        raise InvalidInput("--calibration applies to .onnx models only (a .q.npz is already quantized)")
    return QuantizedModel.load(path)


def _read_input(spec: str, model, as_int8: bool) -> np.ndarray:
    if spec.startswith("digits:"):
        from vcp.model.datasets import load_digits_split

        split = load_digits_split()
        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise InvalidInput(f"--input {spec}: expected digits:N with N an integer") from None
        if not 0 <= index < len(split.x_test):
            raise InvalidInput(f"--input {spec}: N must be in 0..{len(split.x_test) - 1}")
        return model.quantize_input(split.x_test[index])
    path = Path(spec)
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InvalidInput(f"--input {spec}: larger than {MAX_INPUT_BYTES:,} bytes; one input vector expected")
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            from vcp.attest.files import shallow_recursion

            with shallow_recursion():
                values = np.array(json.loads(path.read_text()), dtype=np.float64)
        else:
            raise InvalidInput(f"--input {spec}: expected digits:N, a .npy file or a .json list")
    except InvalidInput:
        raise
    except (OSError, ValueError, TypeError, EOFError, RecursionError) as exc:
        raise InvalidInput(f"--input {spec}: cannot read ({type(exc).__name__}: {str(exc)[:120]})") from exc
    values = np.asarray(values)
    if values.ndim != 1 or values.shape[0] != model.input_width:
        raise InvalidInput(f"--input {spec}: expected {model.input_width} values, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
        raise InvalidInput(f"--input {spec}: values must be finite numbers")
    if as_int8:
        if not np.all(values == np.round(values)) or values.min() < -128 or values.max() > 127:
            raise InvalidInput(f"--input {spec}: --int8 values must be integers in [-128, 127]")
        return values.astype(np.int8)
    return model.quantize_input(values)


def _signing_key(args: argparse.Namespace, chain=None, purpose: str = "sign"):
    from vcp.attest.keys import SigningKey, load_key

    key = load_key(args.keystore)
    if key is not None:
        return key
    if chain is not None and chain.dev_accounts():
        # A dev node: use a throw-away key funded from its unlocked account.
        print("vcp: no key given; using a fresh key funded by the dev node", file=sys.stderr)
        return SigningKey.generate()
    from vcp.errors import KeyUnavailable

    raise KeyUnavailable(f"no key to {purpose} with: pass --keystore FILE or set VCP_PRIVATE_KEY "
                         "(`vcp keygen --out key.json` makes a keystore)")


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _table(title: str, rows: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


# ---------------------------------------------------------------- commands


def cmd_demo(args: argparse.Namespace) -> int:
    if args.mode == "optimistic":
        return _demo_optimistic(args)
    if args.mode == "zk":
        return _demo_zk(args)
    from vcp.demo.signed import run_demo

    if args.repeats < 1:
        raise InvalidInput("--repeats must be at least 1")
    result = run_demo(args.chain, args.rpc_url, args.out, repeats=args.repeats)
    if args.json:
        _print_json(result)
    else:
        m, t, g = result["model"], result["timings_s"], result["gas"]
        _table(f"vcp demo on {result['chain']} (chainId {result['chain_id']})", [
            ("model", f"{m['name']} {m['widths']}, {m['params']:,} params"),
            ("test accuracy float / fixed-point", f"{m['accuracy_float']:.2%} / {m['accuracy_quantized']:.2%}"),
            ("plain inference (float, numpy)", _us(t["inference_float"])),
            ("fixed-point inference", _us(t["inference"])),
            ("commitments (trace root, input, output)", _us(t["commit"])),
            ("EIP-712 signing", _us(t["sign"])),
            ("off-chain verification", _us(t["verify_offchain"])),
            ("gas: deploy registry", f"{g['deploy']:,}"),
            ("gas: register model", f"{g['register_model']:,}"),
            ("gas: authorise prover", f"{g['authorize_prover']:,}"),
            ("gas: submit attestation", f"{g['submit_attestation']:,}"),
            ("gas floor for that submit", f"{result['gas_floor_submit']:,}"),
            ("submit gas / floor", f"{result['gas_ratio_submit']:.3f}x"),
            ("time to receipt", _us(result["latency_to_receipt_s"])),
            ("verified off-chain / recorded on-chain", f"{result['verified_offchain']} / {result['recorded_onchain']}"),
            ("tampered output rejected off-chain", f"{result['tamper_rejected_offchain']}"),
            ("tampered output rejected on-chain", f"{result['tamper_rejected_onchain']} ({result['tamper_error_onchain']})"),
            ("wrong output, genuinely signed: off-chain / registry",
             f"rejected={result['signed_wrong_output']['rejected_offchain']} / "
             f"recorded={result['signed_wrong_output']['recorded_by_registry']}"),
        ])
        print(f"attestation: {result['attestation']['path']}  (median of {args.repeats} runs per timing)")
        print("note: a signature says who claimed a result, not that it is right; re-execution catches the lie.")
    ok = result["verified_offchain"] and result["recorded_onchain"] and result["tamper_rejected_offchain"] \
        and result["tamper_rejected_onchain"]
    return EXIT_OK if ok else EXIT_FAILED


def _demo_optimistic(args: argparse.Namespace) -> int:
    from vcp.demo.optimistic import run_optimistic_demo

    result = run_optimistic_demo(args.chain, args.rpc_url, args.out)
    if args.json:
        _print_json(result)
    else:
        g = result["gas"]
        _table(f"vcp optimistic demo on {result['chain']} (chainId {result['chain_id']})", [
            ("honest job: verified by the watcher / finalized",
             f"{result['honest']['verified_by_watcher']} / {result['honest']['finalized']}"),
            ("gas: open job / submit result / finalize", f"{g['open_job']:,} / {g['submit_result']:,} / {g['finalize']:,}"),
            ("gas: deploy / register model", f"{g['deploy']:,} / {g['register_model']:,}"),
            *[(f"cheat: {c['name']}", f"caught={c['caught']} slashed={c['slashed']} gas={c['gas_fraud_proof']:,}"
               + (f" (+{c['gas_claim']:,} claim)" if c.get("gas_claim") else "")
               + (f" (+{c['gas_reveal_request']:,} reveal request)" if c["gas_reveal_request"] else ""))
              for c in result["cheats"]],
            ("contract balance == what it owes", str(result["balance_equals_owed"])),
            ("dispute rounds / blocks to finality", f"{result['dispute']['rounds']} / {result['dispute']['blocks_to_finality']}"),
        ])
    ok = result["honest"]["finalized"] and all(c["caught"] and c["slashed"] for c in result["cheats"]) \
        and result["balance_equals_owed"]
    return EXIT_OK if ok else EXIT_FAILED


def _demo_zk(args: argparse.Namespace) -> int:
    from vcp.demo.zk import run_zk_demo

    result = run_zk_demo(args.chain, args.rpc_url, args.out, srs=args.srs)
    if args.json:
        _print_json(result)
    else:
        rows = [
            ("model", f"{result['model']['name']} {result['model']['widths']}"),
            ("EZKL / logrows / SRS", f"{result['ezkl']} / {result['logrows']} / {result['srs']}"),
            ("setup (s)", "cached" if result["setup_cached"] else f"{result['setup_s']:.1f}"),
            ("zk verified off-chain / recorded on-chain", f"{result['verified_offchain']} / {result['recorded_onchain']}"),
            *[(f"rejected on-chain: {k.replace('_', ' ')}", str(v)) for k, v in result["rejected"].items()],
        ]
        for c in result["comparison"]:
            rows.append((f"{c['mode']}: prover / proof bytes",
                         f"{c['prover_s'] * 1e3:,.3f} ms / {c['proof_bytes']:,}"))
            rows.append((f"{c['mode']}: verify gas / deploy gas / final after",
                         f"{c['verify_gas']:,} / {c['deploy_gas']:,} / {c['finality']}"))
        _table(f"vcp zk demo on {result['chain']} (same model, same chain)", rows)
        for c in result["comparison"]:
            print(f"{c['mode']}: guarantees {c['guarantees']}; you trust {c['trust']}.")
    ok = result["verified_offchain"] and result["recorded_onchain"] and all(result["rejected"].values())
    return EXIT_OK if ok else EXIT_FAILED


def _optimistic(args: argparse.Namespace, purpose: str):
    """(chain, contract, funded sender) for commands that talk to the optimistic contract."""
    from vcp.chain import deployments
    from vcp.chain.nodes import RpcChain
    from vcp.chain.optimistic import OptimisticInference
    from vcp.chain.tx import Sender

    chain = RpcChain(args.rpc_url)
    dep = deployments.lookup(args.deployments, chain, "OptimisticInference")
    sender = Sender(chain, _signing_key(args, chain, purpose).reveal())
    if chain.dev_accounts():
        sender.ensure_funded()
    return chain, OptimisticInference(chain, dep.address), sender


def _loop(step, once: bool, interval: float) -> int:
    from vcp.errors import ChainError

    while True:
        try:
            step()
        except ChainError as exc:  # a node hiccup ends one step, not the service (unless --once)
            if once:
                raise
            print(f"vcp: step failed, trying again in {max(interval, 0.05):g} s: {exc}", file=sys.stderr, flush=True)
        if once:
            return EXIT_OK
        time.sleep(max(interval, 0.05))


def cmd_serve(args: argparse.Namespace) -> int:
    from prover import ProverService
    from vcp.ops.exchange import Exchange

    model = _load_model(args.model, args.calibration)
    _, contract, sender = _optimistic(args, "answer jobs")
    from vcp.ops.journal import Journal

    service = ProverService(contract, sender, model, Exchange(args.exchange), args.state,
                            journal=Journal(args.journal))
    print(f"serving {model.name} as {sender.address} on {contract.address}", flush=True)

    def step() -> None:
        done = service.step()
        for job_id, tx in done.answered.items():
            print(f"job {job_id}: answered (gas {tx.gas_used:,})", flush=True)
        for job_id, tx in done.revealed.items():
            print(f"job {job_id}: trace revealed on-chain (gas {tx.gas_used:,})", flush=True)
        for job_id, tx in done.finalized.items():
            print(f"job {job_id}: finalized (gas {tx.gas_used:,})", flush=True)

    return _loop(step, args.once, args.interval)


def cmd_watch(args: argparse.Namespace) -> int:
    from vcp.ops.exchange import Exchange
    from verifier import Watcher

    model = _load_model(args.model, args.calibration)
    _, contract, sender = _optimistic(args, "post challenge bonds")
    from vcp.ops.journal import Journal

    watcher = Watcher(contract, sender, [model], args.state, Exchange(args.exchange), journal=Journal(args.journal))
    print(f"watching {contract.address} from block {watcher.state.data['last_block'] + 1}", flush=True)

    def step() -> None:
        done = watcher.step()
        for job_id in done.verified:
            print(f"job {job_id}: result verified", flush=True)
        for job_id, (fault, outcome) in done.challenged.items():
            verdict = "fraud proven, prover slashed" if outcome.fraud else "challenge failed"
            print(f"job {job_id}: {fault.detail or fault.kind.name}: {verdict} (gas {outcome.tx.gas_used:,})", flush=True)
        for job_id in done.reveal_requested:
            print(f"job {job_id}: no bundle published, reveal requested", flush=True)
        for job_id in done.slashed_withheld:
            print(f"job {job_id}: trace withheld, prover slashed", flush=True)
        for job_id, reason in done.errors.items():
            print(f"job {job_id}: will try again next step: {reason}", file=sys.stderr, flush=True)

    return _loop(step, args.once, args.interval)


def cmd_request(args: argparse.Namespace) -> int:
    import secrets

    from vcp.commit.commitments import ModelCommitment
    from vcp.ops.exchange import Exchange

    model = _load_model(args.model, args.calibration)
    x = _read_input(args.input, model, args.int8)
    if args.fee_wei <= 0:
        raise InvalidInput("--fee-wei must be positive")
    _, contract, sender = _optimistic(args, "pay the fee")
    commitment = Exchange(args.exchange).put_input(x, secrets.token_bytes(32))  # on disk before the job exists
    job_id, tx = contract.open_job(sender, ModelCommitment(model).root, commitment, args.fee_wei)
    print(f"job {job_id} opened (gas {tx.gas_used:,}); input published in {args.exchange}")
    return EXIT_OK


def cmd_withdraw(args: argparse.Namespace) -> int:
    _, contract, sender = _optimistic(args, "withdraw")
    amount = contract.credit(sender.address)
    tx = contract.withdraw(sender)
    print(f"withdrew {amount} wei to {sender.address} (gas {tx.gas_used:,})")
    return EXIT_OK


def _domain_for_prove(args: argparse.Namespace):
    from vcp.attest.eip712 import Domain, parse_address

    if args.rpc_url:
        from vcp.chain import deployments
        from vcp.chain.nodes import RpcChain

        chain = RpcChain(args.rpc_url)
        dep = deployments.lookup(args.deployments, chain, "AttestationRegistry")
        return Domain(chain.chain_id, parse_address(dep.address, "registry"))
    if args.chain_id is None or args.registry is None:
        raise InvalidInput("prove needs --rpc-url, or both --chain-id and --registry")
    if args.chain_id <= 0:
        raise InvalidInput("--chain-id must be positive")
    return Domain(args.chain_id, parse_address(args.registry, "--registry"))


def cmd_prove(args: argparse.Namespace) -> int:
    from prover import Prover
    from vcp.attest.eip712 import parse_bytes32

    model = _load_model(args.model, args.calibration)
    x = _read_input(args.input, model, args.int8)
    job_id = parse_bytes32(args.job_id, "--job-id")
    domain = _domain_for_prove(args)
    if args.backend == "zk":
        return _prove_zk(args, model, x, job_id, domain)
    key = _signing_key(args, purpose="sign the attestation")
    proven = Prover(model, key, domain).prove(x, job_id=job_id)
    att_path, bundle_path = proven.save(args.out)
    _journal_file(args.journal, att_path)
    t = proven.timings
    print(f"wrote {att_path} and {bundle_path}")
    print(f"label {proven.label}, prover {key.address}, digest 0x{proven.digest.hex()}")
    print(f"inference {_us(t.inference_s)}, commit {_us(t.commit_s)}, sign {_us(t.sign_s)}")
    return EXIT_OK


def _prove_zk(args: argparse.Namespace, model, x, job_id: bytes, domain) -> int:
    import secrets

    from vcp import zk
    from vcp.attest.eip712 import random_nonce
    from vcp.commit.commitments import ModelCommitment
    from vcp.attest.files import ZkAttestationFile

    root = ModelCommitment(model).root
    zk.require_ezkl()
    if args.rpc_url:
        from vcp.chain.nodes import RpcChain
        from vcp.chain.registry import Registry

        info = Registry(RpcChain(args.rpc_url), domain.verifying_contract).contract.functions.zkVerifier(root).call()
        if int(info[0], 16) == 0:
            raise InvalidInput("no zk verifier is registered for this model: run `vcp deploy --zk` first")
    # The registry records a zk attestation under the account that submits it: name it now.
    submitter = _signing_key(args, purpose="name the account that will submit the zk attestation").address
    circuit = zk.prepare_circuit(model, srs=args.srs)
    proof = zk.prove(circuit, x)
    in_salt, out_salt = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk.attestation_for(proof, submitter, root, in_salt, out_salt, random_nonce(), job_id)
    circuit_info = {"ezkl": zk.ezkl_version(), "logrows": circuit.logrows, "input_scale": circuit.input_scale,
                    "srs": "local, UNSAFE for production" if circuit.srs_unsafe else str(circuit.srs_path)}
    ZkAttestationFile(att, domain, model.name, proof.proof, proof.instances, proof.input, in_salt, out_salt,
                      circuit_info).save(args.out)
    _journal_file(args.journal, args.out)
    print(f"wrote {args.out}: zk proof of {len(proof.proof):,} bytes in {proof.prove_s:.1f} s "
          f"(setup {'cached' if circuit.setup_s == 0 else f'{circuit.setup_s:.1f} s'})")
    return EXIT_OK


EXIT_UNCHECKED = 3  # vcp verify: a check could not be carried out (a file unreadable, the node unreachable)
VERIFY_EXIT_CODES = ("exit status: 0 valid; 1 invalid (a check failed, or the file is malformed or refused); "
                     "2 usage error; 3 could not check (a file unreadable, the node unreachable, EZKL missing)")


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 valid, 1 invalid, 2 usage, 3 could not check; every echoed value escaped."""
    from vcp.attest.files import printable

    try:
        return _verify(args)
    except (VcpError, OSError) as exc:
        word, code = _verify_failure(exc)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"vcp: {word}: {printable(reason)}", file=sys.stderr)
        return code


def _verify_failure(exc: Exception) -> tuple[str, int]:
    from vcp.errors import FileUnreadable, InvalidAttestationFile

    if isinstance(exc, (InvalidAttestationFile, VerificationFailed)):
        return "invalid", EXIT_FAILED  # the file is malformed or refused: it is not a valid attestation
    if isinstance(exc, FileUnreadable) or not isinstance(exc, InvalidInput):
        return "could not check", EXIT_UNCHECKED  # I/O, the node, EZKL: no verdict either way
    return "error", EXIT_USAGE


def _verify(args: argparse.Namespace) -> int:
    from vcp.attest.eip712 import parse_address
    from verifier._offchain import load_any, verify_loaded

    prover = parse_address(args.prover, "--prover") if args.prover is not None else None
    model = _load_model(args.model, args.calibration)
    signed = load_any(args.attestation)
    kind = _verify_kind(args, signed)
    report = verify_loaded(signed, args.attestation, model, args.bundle, prover)
    result: dict[str, Any] = {"kind": kind, "valid": report.valid, "reason": report.reason, "digest": report.digest,
                              "signer": report.signer, "label": report.label, "checks_passed": report.checks_passed}
    if kind == "batch":
        result["count"] = signed.batch.count
    if report.valid and args.rpc_url:
        _verify_onchain(args, signed, result)
    _print_verify(args, result)
    return EXIT_OK if result["valid"] else EXIT_FAILED


def _verify_kind(args: argparse.Namespace, signed) -> str:
    from vcp.attest.files import BatchFile, ZkAttestationFile, printable

    kind = "zk" if isinstance(signed, ZkAttestationFile) else "batch" if isinstance(signed, BatchFile) else "signed"
    if args.backend is not None and (args.backend == "zk") != (kind == "zk"):
        raise UsageError(f"--backend {args.backend}: {printable(args.attestation)} is a {kind} attestation file; "
                         "drop --backend (the file's format decides)")
    return kind


def _verify_onchain(args: argparse.Namespace, signed, result: dict[str, Any]) -> None:
    """The registry's record of this file; a node that cannot be reached raises ChainError (exit 3)."""
    from vcp.chain import deployments
    from vcp.chain.boundary import chain_errors
    from vcp.chain.nodes import RpcChain
    from vcp.chain.registry import Registry
    from verifier._onchain import check_onchain

    with chain_errors(f"checking the registry at {args.rpc_url}"):
        chain = RpcChain(args.rpc_url)
        dep = deployments.lookup(args.deployments, chain, "AttestationRegistry")
    status = check_onchain(Registry(chain, dep.address), signed)
    result["recorded_onchain"] = status.recorded
    if not status.recorded:
        result.update(valid=False, reason=f"on-chain: {status.reason}")


def _print_verify(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from vcp.attest.files import printable

    if args.json:
        _print_json(result)  # json.dumps escapes every control and non-ASCII character
        return
    if not result["valid"]:
        print(f"invalid: {printable(result['reason'])}", file=sys.stderr)
        return
    what = {"signed": f"label {result['label']}, signed by {result['signer']}",
            "batch": f"{result.get('count')} records, signed by {result['signer']}",
            "zk": "the zk proof verifies and binds the committed input and output"}[result["kind"]]
    print(printable(f"valid: {what}" + (", recorded on-chain" if result.get("recorded_onchain") else "")))


def _journal_file(journal_path: Path, attestation_path: Path) -> None:
    from vcp.ops.submitter import load_any
    from vcp.ops.journal import Journal

    loaded = load_any(attestation_path)
    with Journal(journal_path) as journal:
        journal.add(loaded.digest, loaded.kind, attestation_path, loaded.chain_id, loaded.registry, loaded.prover,
                    loaded.nonce)


def _submitter(args: argparse.Namespace):
    """(submitter, journal): the key and the node are checked before the journal is opened."""
    from vcp.chain import deployments
    from vcp.chain.nodes import RpcChain
    from vcp.chain.registry import Registry
    from vcp.ops.submitter import Submitter
    from vcp.chain.tx import Sender
    from vcp.ops.journal import Journal

    chain = RpcChain(args.rpc_url)
    dep = deployments.lookup(args.deployments, chain, "AttestationRegistry")
    sender = Sender(chain, _signing_key(args, chain, "pay for the transaction").reveal())
    if chain.dev_accounts():
        sender.ensure_funded()
    journal = Journal(args.journal)
    return Submitter(Registry(chain, dep.address), sender, journal), journal


def cmd_submit(args: argparse.Namespace) -> int:
    from vcp.chain.gas import submit_floor
    from vcp.ops.submitter import load_any

    loaded = load_any(args.attestation)  # a bad file fails before anything is opened
    submitter, journal = _submitter(args)
    with journal:
        entry = submitter.submit(args.attestation)
        calldata = loaded.calldata(submitter.registry)
    result = {"digest": entry.id, "status": entry.status, "tx": entry.tx_hash, "block": entry.block,
              "gas_used": entry.gas_used, "note": entry.reason}
    if entry.gas_used:
        result["gas_floor"] = submit_floor(calldata)
        result["ratio"] = round(entry.gas_used / result["gas_floor"], 4)
    if args.json:
        _print_json(result)
    elif entry.gas_used:
        print(f"recorded in block {entry.block} (tx {entry.tx_hash}): gas {entry.gas_used:,}"
              + (f", floor {result['gas_floor']:,}, ratio {result['ratio']:.3f}x" if "gas_floor" in result else ""))
    else:
        print(f"already recorded on-chain ({entry.reason or 'landed earlier'}); nothing sent")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from vcp.ops.journal import Journal

    if not Path(args.journal).exists():
        raise InvalidInput(f"no journal at {args.journal}")
    with Journal(args.journal) as journal:
        entries = journal.entries()
        counts = journal.counts()
        jobs = journal.jobs()
    if args.json:
        _print_json({"counts": counts, "entries": [e.__dict__ for e in entries],
                     "jobs": [dict(zip(("chain_id", "contract", "job_id", "role", "status", "detail"), j))
                              for j in jobs]})
        return EXIT_OK
    print("attestations: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    if jobs:
        from collections import Counter

        tally = Counter(f"{role} {status}" for _, _, _, role, status, _ in jobs)
        print("optimistic jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    for e in entries:
        if e.status != "landed":
            print(f"{e.status:8} {e.kind:6} {e.id[:18]}… chain {e.chain_id} {Path(e.path).name}"
                  + (f": {e.reason}" if e.reason else ""))
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    submitter, journal = _submitter(args)
    with journal:
        entries = submitter.resume()
        counts = journal.counts()
    landed = sum(e.status == "landed" for e in entries)
    print(f"{landed} of {len(entries)} resumed attestation(s) landed; journal: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return EXIT_OK if landed == len(entries) else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    """Prove inputs A..B-1 (each written and journaled before anything is sent), then land them.
    Killed at any point and started again, it redoes nothing that was done."""
    from prover import Prover
    from vcp.ops.submitter import load_any
    from vcp.model.datasets import load_digits_split

    spec = args.inputs.removeprefix("digits:")
    try:
        first, last = (int(v) for v in spec.split("-"))
    except ValueError:
        raise InvalidInput("--inputs must look like digits:A-B") from None
    split = load_digits_split()
    if not 0 <= first < last <= len(split.x_test):
        raise InvalidInput(f"--inputs: need 0 <= A < B <= {len(split.x_test)}")
    model = _load_model(args.model, args.calibration)
    submitter, journal = _submitter(args)
    with journal:
        key = _signing_key(args, None, "sign attestations")
        prover = Prover(model, key, submitter.registry.domain)
        args.out.mkdir(parents=True, exist_ok=True)
        for index in range(first, last):
            path = args.out / f"input-{index}.json"
            if not path.exists():  # proven before a crash: keep that file (its nonce may be on-chain)
                prover.prove(model.quantize_input(split.x_test[index])).save(path)
            loaded = load_any(path)
            journal.add(loaded.digest, loaded.kind, path, loaded.chain_id, loaded.registry, loaded.prover, loaded.nonce)
        for index in range(first, last):
            submitter.submit(args.out / f"input-{index}.json")
        counts = journal.counts()
    print(f"inputs {first}..{last - 1}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace) -> int:
    from vcp.attest.eip712 import parse_address
    from vcp.chain import deployments
    from vcp.chain.nodes import RpcChain
    from vcp.chain.optimistic import OptimisticInference, OptimisticParams
    from vcp.chain.registry import Registry
    from vcp.chain.tx import Sender
    from vcp.commit.commitments import ModelCommitment

    model = _load_model(args.model, args.calibration)
    provers = [parse_address(p, "--prover") for p in args.prover]
    chain = RpcChain(args.rpc_url)
    sender = Sender(chain, _signing_key(args, chain, "deploy").reveal())
    if chain.dev_accounts():
        sender.ensure_funded()
    registry, tx = Registry.deploy(sender)
    deployments.record(args.deployments, chain.chain_id, "AttestationRegistry", deployments.Deployment(
        address=registry.address, tx=tx.tx_hash, block=tx.block_number, deployer=sender.address,
        code_keccak=deployments.code_keccak(chain, registry.address)))
    commitment = ModelCommitment(model)
    root = commitment.root
    reg_tx = registry.register_model(sender, root)
    prover_gas = [registry.set_prover(sender, p).gas_used for p in provers]
    params = OptimisticParams(prover_bond=args.prover_bond_wei, challenge_bond=args.challenge_bond_wei,
                              challenge_window=args.challenge_window, reveal_window=args.reveal_window)
    optimistic, opt_tx = OptimisticInference.deploy(sender, params)
    deployments.record(args.deployments, chain.chain_id, "OptimisticInference", deployments.Deployment(
        address=optimistic.address, tx=opt_tx.tx_hash, block=opt_tx.block_number, deployer=sender.address,
        code_keccak=deployments.code_keccak(chain, optimistic.address)))
    optimistic.register_model(sender, commitment)
    zk_info = None
    if args.zk:
        from vcp import zk

        circuit = zk.prepare_circuit(model, srs=args.srs)
        zk_tx = registry.deploy_zk_verifier(sender, circuit.verifier_bytecode)
        registry.set_zk_verifier(sender, root, zk_tx.contract_address, circuit.input_scale, circuit.in_width,
                                 circuit.out_width)
        zk_info = {"verifier": zk_tx.contract_address, "deploy_gas": zk_tx.gas_used,
                   "srs": "local, UNSAFE for production" if circuit.srs_unsafe else str(circuit.srs_path)}
    result = {"chain_id": chain.chain_id, "registry": registry.address, "optimistic": optimistic.address,
              "owner": sender.address, "deploy_gas": tx.gas_used, "deploy_gas_optimistic": opt_tx.gas_used,
              "model_root": "0x" + root.hex(), "register_gas": reg_tx.gas_used,
              "provers": provers, "authorize_gas": prover_gas, "deployments": str(args.deployments), "zk": zk_info}
    if args.json:
        _print_json(result)
    else:
        print(f"AttestationRegistry at {registry.address} on chain {chain.chain_id} (deploy gas {tx.gas_used:,}), "
              f"recorded in {args.deployments}")
        print(f"OptimisticInference at {optimistic.address} (deploy gas {opt_tx.gas_used:,})")
        if zk_info:
            print(f"zk verifier at {zk_info['verifier']} (deploy gas {zk_info['deploy_gas']:,}; SRS {zk_info['srs']})")
        print(f"registered model {model.name} root {result['model_root']}; authorised {len(provers)} prover(s)")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    import dataclasses

    from rich.progress import Progress

    from vcp.bench import FULL, QUICK, Prices, run_bench
    from vcp.bench.output import write_results

    config = QUICK if args.quick else FULL
    if args.chains:
        chains = tuple(c.strip() for c in args.chains.split(",") if c.strip())
        unknown = [c for c in chains if c not in ("embedded", "anvil", "ganache")]
        if unknown or not chains:
            raise InvalidInput(f"--chains: unknown chain(s) {', '.join(unknown) or '(none given)'}")
        config = dataclasses.replace(config, chains=chains)
    if args.repeats is not None:
        if args.repeats < 1:
            raise InvalidInput("--repeats must be at least 1")
        config = dataclasses.replace(config, repeats=args.repeats)
    if args.gas_price_gwei < 0 or args.eth_usd < 0:
        raise InvalidInput("prices must not be negative")
    config = dataclasses.replace(config, prices=Prices(args.gas_price_gwei, args.eth_usd))
    steps = len(config.chains) * (len(config.models) + 2) + len(config.zk_models)
    with Progress(transient=True, console=__import__("rich.console").console.Console(stderr=True)) as progress:
        task = progress.add_task("vcp bench", total=steps)

        def note(message: str) -> None:
            progress.update(task, advance=1, description=message)

        result = run_bench(config, note)
    json_path, csv_path = write_results(result, args.out)
    if args.json:
        _print_json(result)
    else:
        _table("vcp bench targets", [(t["name"], f"{t['value']:,.4g} ({'met' if t['met'] else 'MISSED'}, limit "
                                      f"{t['limit']:,})" if t["value"] is not None else "not measured")
                                     for t in result["targets"]])
        print(f"wrote {json_path} and {csv_path} in {result['wall_time_s']:.0f} s; `vcp report` renders them")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from vcp.bench.report import headline_markdown, write_report

    if args.markdown:
        try:
            result = json.loads(Path(args.bench).read_text())
            print(headline_markdown(result), end="")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{args.bench} is not a vcp bench result ({exc}); run `vcp bench` first") from exc
        return EXIT_OK
    path = write_report(args.bench, args.out)
    print(f"wrote {path} (plots embedded; PNGs beside it)")
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from vcp.commit.commitments import ModelCommitment
    from vcp.model.onnx_import import import_onnx
    from vcp.model.onnx_io import agreement, describe, load_calibration, quantize_imported

    started = time.perf_counter()
    imported = import_onnx(args.model, args.output)
    x, how = load_calibration(args.calibration, imported.model.input_width)
    qmodel = quantize_imported(imported, x, how)
    import_s = time.perf_counter() - started
    check = load_calibration(args.validation, imported.model.input_width)[0] if args.validation else x
    agree = agreement(args.model, imported, qmodel, check)
    result = {
        "model": str(args.model), "head": imported.head, "output": imported.output_name,
        "input_shape": list(imported.input_shape), "params": qmodel.param_count, "widths": qmodel.widths,
        "layers": describe(qmodel), "quantization": how, "identity": imported.identity,
        "model_root": "0x" + ModelCommitment(qmodel).root.hex(), "import_and_quantize_s": import_s,
        "agreement": {"inputs": "validation" if args.validation else "calibration", "samples": agree.samples,
                      "top1": agree.top1_agreement, "max_abs_diff": agree.max_abs_diff,
                      "float_import_vs_onnxruntime_top1": agree.float_vs_reference_top1},
    }
    if args.json:
        _print_json(result)
        return EXIT_OK
    rows = [("file", f"{args.model} ({imported.identity['producer'] or 'unknown producer'})"),
            ("widths / params", f"{qmodel.widths} / {qmodel.param_count:,}"),
            ("head (applied after dequantization)", imported.head),
            ("calibration", how["calibration"])]
    for layer in result["layers"]:
        rows.append((f"layer {layer['layer']}: {layer['in']} -> {layer['out']} {layer['activation']}",
                     f"scale in {layer['input_scale']:.3g}, out {layer['output_scale']:.3g}, "
                     f"shift {layer['shift_min']}..{layer['shift_max']}"))
    rows += [("top-1 agreement with onnxruntime", f"{agree.top1_agreement:.2%} on {agree.samples} "
                                                  f"{result['agreement']['inputs']} inputs"),
             ("largest |difference| of dequantized outputs",
              "n/a (ArgMax head)" if agree.max_abs_diff is None else f"{agree.max_abs_diff:.4g}"),
             ("model root", result["model_root"]), ("import + quantize", _us(import_s))]
    _table("vcp inspect", rows)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from vcp.model.onnx_io import export_onnx

    model = _load_model(args.model, args.calibration)
    path = export_onnx(model, args.out)
    print(f"wrote {path}: {model.name} {model.widths} as float ONNX (Gemm + Relu)")
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    from vcp.attest.keys import PASSWORD_ENV, create_keystore

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise InvalidInput(f"set {PASSWORD_ENV} or run in a terminal to choose a password")
        import getpass

        password = getpass.getpass("new keystore password: ")
        if getpass.getpass("repeat: ") != password:
            raise InvalidInput("passwords differ")
    key = create_keystore(args.out, password, kdf=args.kdf)
    print(f"wrote {args.out} for address {key.address}")
    return EXIT_OK


def cmd_node(args: argparse.Namespace) -> int:
    from vcp.chain.nodes import LocalNode

    with LocalNode(args.kind, port=args.port) as node:
        print(f"{args.kind} on {node.rpc_url} (chainId {node.chain_id}); Ctrl-C to stop", flush=True)
        try:
            while node.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return EXIT_OK
    return EXIT_FAILED


COMMANDS = {"demo": cmd_demo, "prove": cmd_prove, "verify": cmd_verify, "submit": cmd_submit,
            "deploy": cmd_deploy, "keygen": cmd_keygen, "node": cmd_node, "serve": cmd_serve, "watch": cmd_watch,
            "request": cmd_request, "withdraw": cmd_withdraw, "bench": cmd_bench, "report": cmd_report,
            "inspect": cmd_inspect, "export": cmd_export, "status": cmd_status, "resume": cmd_resume, "run": cmd_run}


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds `with` blocks, so started nodes are stopped


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InvalidInput as exc:
        print(f"vcp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VerificationFailed as exc:
        print(f"vcp: invalid: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except VcpError as exc:
        print(f"vcp: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a node gone mid-command, a full disk: still one line
        print(f"vcp: error: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("vcp: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with the traceback on request
        if os.environ.get("VCP_DEBUG"):
            traceback.print_exc()
        print(f"vcp: internal error: {type(exc).__name__}: {exc} (set VCP_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_FAILED

