"""``vcp demo``: the whole pipeline on one chain, in one trust mode, and what it costs."""

from __future__ import annotations

import argparse

from vcp_toolkit.cli.render import EXIT_FAILED, EXIT_OK, number, out_folder, print_json, table, us
from vcp_toolkit.errors import InvalidInput


def cmd_demo(args: argparse.Namespace) -> int:
    if args.mode == "network":
        from vcp_toolkit.cli.demo_network import demo_network

        return demo_network(args)
    if args.model != "digits":
        from vcp_toolkit.cli.demo_cnn import demo_cnn

        return demo_cnn(args)
    if args.mode == "optimistic":
        return _demo_optimistic(args)
    if args.mode == "zk":
        return _demo_zk(args)
    from vcp_toolkit.demo.signed import run_demo

    if args.repeats < 1:
        raise InvalidInput("--repeats must be at least 1")
    result = run_demo(args.chain, args.rpc_url, out_folder(args.out, 'its attestation files'), repeats=args.repeats,
                      hardfork=args.hardfork)
    if args.json:
        print_json(result)
    else:
        table(f"vcp demo on {result['chain']} (chainId {result['chain_id']})", _signed_rows(result))
        print(f"attestation: {result['attestation']['path']}  (median of {args.repeats} runs per timing)")
        print("note: a signature says who claimed a result, not that it is right; re-execution catches the lie.")
    ok = result["verified_offchain"] and result["recorded_onchain"] and result["tamper_rejected_offchain"] \
        and result["tamper_rejected_onchain"]
    return EXIT_OK if ok else EXIT_FAILED


def _signed_rows(result: dict) -> list[tuple[str, str]]:
    m, t, g = result["model"], result["timings_s"], result["gas"]
    wrong = result["signed_wrong_output"]
    return [
        ("model", f"{m['name']} {m['widths']}, {number(m['params'])} params"),
        ("test accuracy float / fixed-point", f"{m['accuracy_float']:.2%} / {m['accuracy_quantized']:.2%}"),
        ("plain inference (float, numpy)", us(t["inference_float"])),
        ("fixed-point inference", us(t["inference"])),
        ("commitments (trace root, input, output)", us(t["commit"])),
        ("EIP-712 signing", us(t["sign"])),
        ("off-chain verification", us(t["verify_offchain"])),
        ("gas: deploy registry", number(g["deploy"])),
        ("gas: register model", number(g["register_model"])),
        ("gas: authorise prover", number(g["authorize_prover"])),
        ("gas: submit attestation", number(g["submit_attestation"])),
        ("gas floor for that submit", number(result["gas_floor_submit"])),
        ("submit gas / floor", f"{result['gas_ratio_submit']:.3f}x"),
        ("time to receipt", us(result["latency_to_receipt_s"])),
        ("verified off-chain / recorded on-chain", f"{result['verified_offchain']} / {result['recorded_onchain']}"),
        ("tampered output rejected off-chain", f"{result['tamper_rejected_offchain']}"),
        ("tampered output rejected on-chain", f"{result['tamper_rejected_onchain']} ({result['tamper_error_onchain']})"),
        ("wrong output, genuinely signed: off-chain / registry",
         f"rejected={wrong['rejected_offchain']} / recorded={wrong['recorded_by_registry']}"),
    ]


def _cheat_row(c: dict) -> tuple[str, str]:
    return (f"cheat: {c['name']}", f"caught={c['caught']} slashed={c['slashed']} gas={number(c['gas_fraud_proof'])}"
            + (f" (+{number(c['gas_claim'])} claim)" if c.get("gas_claim") else "")
            + (f" (+{number(c['gas_reveal_request'])} reveal request)" if c["gas_reveal_request"] else ""))


def _demo_optimistic(args: argparse.Namespace) -> int:
    from vcp_toolkit.demo.optimistic import run_optimistic_demo

    result = run_optimistic_demo(args.chain, args.rpc_url, out_folder(args.out, 'its attestation files'),
                                 hardfork=args.hardfork)
    if args.json:
        print_json(result)
    else:
        g, honest, dispute = result["gas"], result["honest"], result["dispute"]
        table(f"vcp optimistic demo on {result['chain']} (chainId {result['chain_id']})", [
            ("honest job: verified by the watcher / finalized",
             f"{honest['verified_by_watcher']} / {honest['finalized']}"),
            ("gas: open job / submit result / finalize",
             " / ".join(number(g[k]) for k in ("open_job", "submit_result", "finalize"))),
            ("gas: deploy / register model", f"{number(g['deploy'])} / {number(g['register_model'])}"),
            *[_cheat_row(c) for c in result["cheats"]],
            ("contract balance == what it owes", str(result["balance_equals_owed"])),
            ("dispute rounds / blocks to finality", f"{dispute['rounds']} / {dispute['blocks_to_finality']}"),
        ])
    ok = result["honest"]["finalized"] and all(c["caught"] and c["slashed"] for c in result["cheats"]) \
        and result["balance_equals_owed"]
    return EXIT_OK if ok else EXIT_FAILED


def _zk_rows(result: dict) -> list[tuple[str, str]]:
    rows = [
        ("model", f"{result['model']['name']} {result['model']['widths']}"),
        ("EZKL / logrows / SRS", f"{result['ezkl']} / {result['logrows']} / {result['srs']}"),
        ("setup (s)", "cached" if result["setup_cached"] else f"{result['setup_s']:.1f}"),
        ("zk verified off-chain / recorded on-chain", f"{result['verified_offchain']} / {result['recorded_onchain']}"),
        *[(f"rejected on-chain: {k.replace('_', ' ')}", str(v)) for k, v in result["rejected"].items()],
    ]
    for c in result["comparison"]:
        rows.append((f"{c['mode']}: prover / proof bytes", f"{us(c['prover_s'])} / {number(c['proof_bytes'])}"))
        rows.append((f"{c['mode']}: verify gas / deploy gas / final after",
                     f"{number(c['verify_gas'])} / {number(c['deploy_gas'])} / {c['finality']}"))
    return rows


def _demo_zk(args: argparse.Namespace) -> int:
    from vcp_toolkit.demo.zk import run_zk_demo

    result = run_zk_demo(args.chain, args.rpc_url, out_folder(args.out, 'its attestation files'), srs=args.srs,
                         hardfork=args.hardfork)
    if args.json:
        print_json(result)
    else:
        table(f"vcp zk demo on {result['chain']} (same model, same chain)", _zk_rows(result))
        for c in result["comparison"]:
            print(f"{c['mode']}: guarantees {c['guarantees']}; you trust {c['trust']}.")
    ok = result["verified_offchain"] and result["recorded_onchain"] and all(result["rejected"].values())
    return EXIT_OK if ok else EXIT_FAILED
