"""``vcp verify``: exit 0 valid, 1 invalid, 2 usage, 3 could not check; every echoed value escaped."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vcp_toolkit.cli.context import Context
from vcp_toolkit.cli.render import (EXIT_FAILED, EXIT_OK, EXIT_UNCHECKED, EXIT_USAGE, os_error_text, print_json,
                                  printable)
from vcp_toolkit.errors import InvalidInput, UsageError, VcpError, VerificationFailed


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        return _verify(args)
    except (VcpError, OSError) as exc:
        word, code = _verify_failure(exc)
        reason = os_error_text(exc) if isinstance(exc, OSError) else printable(exc)
        print(f"vcp: {word}: {reason}", file=sys.stderr)
        return code


def _verify_failure(exc: Exception) -> tuple[str, int]:
    from vcp_toolkit.errors import FileUnreadable, InvalidAttestationFile

    if isinstance(exc, (InvalidAttestationFile, VerificationFailed)):
        return "invalid", EXIT_FAILED  # the file is malformed or refused: it is not a valid attestation
    if isinstance(exc, FileUnreadable) or not isinstance(exc, InvalidInput):
        return "could not check", EXIT_UNCHECKED  # I/O, the node, EZKL: no verdict either way
    return "error", EXIT_USAGE


def _verify(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.eip712 import parse_address
    from vcp_toolkit.verifier import load_any, verify_loaded

    prover = parse_address(args.prover, "--prover") if args.prover is not None else None
    ctx = Context(args)
    model = ctx.model
    signed = load_any(args.attestation)
    kind = _verify_kind(args, signed)
    report = verify_loaded(signed, args.attestation, model, args.bundle, prover)
    result: dict[str, Any] = {"kind": kind, "valid": report.valid, "reason": report.reason, "digest": report.digest,
                              "signer": report.signer, "label": report.label, "checks_passed": report.checks_passed}
    if kind == "batch":
        result["count"] = signed.batch.count
    if report.valid and args.rpc_url:
        _verify_onchain(ctx, signed, result)
    _print_verify(args, result)
    return EXIT_OK if result["valid"] else EXIT_FAILED


def _verify_kind(args: argparse.Namespace, signed) -> str:
    from vcp_toolkit.attest.files import BatchFile, ZkAttestationFile

    kind = "zk" if isinstance(signed, ZkAttestationFile) else "batch" if isinstance(signed, BatchFile) else "signed"
    if args.backend is not None and (args.backend == "zk") != (kind == "zk"):
        raise UsageError(f"--backend {args.backend}: {printable(args.attestation)} is a {kind} attestation file; "
                         "drop --backend (the file's format decides)")
    return kind


def _verify_onchain(ctx: Context, signed, result: dict[str, Any]) -> None:
    """The registry's record of this file; a node that cannot be reached raises ChainError (exit 3)."""
    from vcp_toolkit.chain.boundary import chain_errors
    from vcp_toolkit.verifier import check_onchain

    with chain_errors(f"checking the registry at {ctx.args.rpc_url}"):
        registry = ctx.registry(signed.domain.verifying_contract)  # the set this file was made for
    status = check_onchain(registry, signed)
    result["recorded_onchain"] = status.recorded
    if not status.recorded:
        result.update(valid=False, reason=f"on-chain: {status.reason}")


def _print_verify(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        print_json(result)  # json.dumps escapes every control and non-ASCII character
        return
    if not result["valid"]:
        print(f"invalid: {printable(result['reason'])}", file=sys.stderr)
        return
    what = {"signed": f"label {result['label']}, signed by {result['signer']}",
            "batch": f"{result.get('count')} records, signed by {result['signer']}",
            "zk": "the zk proof verifies and binds the committed input and output"}[result["kind"]]
    print(printable(f"valid: {what}" + (", recorded on-chain" if result.get("recorded_onchain") else "")))
