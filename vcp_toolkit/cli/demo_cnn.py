"""``vcp demo --model lenet|rescnn|vit``: the signed or optimistic pipeline on a built-in operator graph."""

from __future__ import annotations

import argparse

from vcp_toolkit.cli.render import EXIT_FAILED, EXIT_OK, number, out_folder, print_json, table, us
from vcp_toolkit.errors import InvalidInput


def demo_cnn(args: argparse.Namespace) -> int:
    from vcp_toolkit.demo.cnn import run_cnn_demo

    if args.mode == "zk":
        raise InvalidInput(f"--mode zk --model {args.model}: the zk demo runs on the digits MLP (EZKL on a CNN or a "
                           "transformer takes minutes and GBs, or more than this machine has); `vcp bench` measures "
                           "it on the LeNet and tries it on the ViT")
    if args.srs is not None:
        raise InvalidInput("--srs applies to --mode zk only: drop it")
    if args.repeats < 1:
        raise InvalidInput("--repeats must be at least 1")
    result = run_cnn_demo(args.model, args.mode, args.chain, args.rpc_url,
                          out_folder(args.out, "its attestation files"), repeats=args.repeats, hardfork=args.hardfork)
    if args.json:
        print_json(result)
    else:
        rows = _model_rows(result["model"])
        rows += _signed_rows(result["signed"]) if args.mode == "signed" else _optimistic_rows(result["optimistic"])
        table(f"vcp demo --model {args.model} on {result['chain']} (chainId {result['chain_id']})", rows)
    return EXIT_OK if _ok(result) else EXIT_FAILED


def _ok(result: dict) -> bool:
    if "signed" in result:
        s, b = result["signed"], result["signed"]["batched"]
        return s["verified_offchain"] and s["forged_rejected_offchain"] and s["forged_rejected_onchain"] \
            and b["records_verified"] and b["forged_record_rejected"]
    o = result["optimistic"]
    return o["honest"]["verified_by_watcher"] and o["honest"]["finalized"] and o["balance_equals_owed"] \
        and all(c["caught"] and c["slashed"] for c in o["cheats"])


def _model_rows(m: dict) -> list[tuple[str, str]]:
    ratio = m["inference_fixed_point_s"] / m["inference_onnxruntime_s"]
    return [
        ("model", f"{m['name']}, {m['nodes']} operators, {number(m['params'])} params"),
        (f"held-out accuracy float / fixed-point ({m['held_out']} images)",
         f"{m['accuracy_float']:.1%} / {m['accuracy_quantized']:.1%}"),
        ("one image: onnxruntime float / fixed point",
         f"{us(m['inference_onnxruntime_s'])} / {us(m['inference_fixed_point_s'])} ({ratio:.1f}x)"),
    ]


def _signed_rows(s: dict) -> list[tuple[str, str]]:
    g = s["gas"]
    return [
        ("prove (inference, commitments, signature)", us(s["prove_s"])),
        ("off-chain verification (re-execution)", us(s["verify_offchain_s"])),
        ("gas: deploy registry / register model", f"{number(g['deploy'])} / {number(g['register_model'])}"),
        ("gas: submit attestation (floor, ratio)",
         f"{number(g['submit_attestation'])} ({number(s['gas_floor_submit'])}, {s['gas_ratio_submit']:.3f}x)"),
        ("verified off-chain / predicted digit", f"{s['verified_offchain']} / {s['label']}"),
        ("forged output rejected off-chain / on-chain",
         f"{s['forged_rejected_offchain']} / {s['forged_rejected_onchain']} ({s['forged_error_onchain']})"),
        *_batched_rows(s["batched"]),
    ]


def _batched_rows(b: dict) -> list[tuple[str, str]]:
    return [
        (f"batched: prove {b['count']} images (one signature)", us(b["prove_s"])),
        ("batched: gas submit (per record)", f"{number(b['gas_submit'])} ({number(b['gas_per_record'])})"),
        ("batched: every record verified on-chain / forged record rejected",
         f"{b['records_verified']} / {b['forged_record_rejected']}"),
    ]


def _optimistic_rows(o: dict) -> list[tuple[str, str]]:
    g = o["gas"]
    rows = [("gas: deploy / register model", f"{number(g['deploy'])} / {number(g['register_model'])}"),
            ("honest job: verified by the watcher / finalized",
             f"{o['honest']['verified_by_watcher']} / {o['honest']['finalized']}"),
            ("gas: open job / submit result / finalize",
             " / ".join(number(g[k]) for k in ("open_job", "submit_result", "finalize")))]
    rows += [(f"cheat: {c['name']} (node {c['node']})",
              f"caught={c['caught']} slashed={c['slashed']} gas={number(c['gas_fraud_proof'])}") for c in o["cheats"]]
    rows.append(("contract balance == what it owes", str(o["balance_equals_owed"])))
    return rows
