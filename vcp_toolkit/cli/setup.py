"""Setting up: deploy the contracts, make a keystore, run a local node."""

from __future__ import annotations

import argparse
import os
import sys
import time

from vcp_toolkit.cli.context import Context
from vcp_toolkit.cli.render import EXIT_OK, print_json, warn
from vcp_toolkit.errors import InvalidInput


def cmd_deploy(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.eip712 import parse_address
    from vcp_toolkit.chain.deploy import deploy_contracts
    from vcp_toolkit.chain.optimistic import OptimisticParams

    for flag, value in (("--challenge-window", args.challenge_window), ("--reveal-window", args.reveal_window),
                        ("--answer-window", args.answer_window)):
        if not 1 <= value < 2**64:  # the contract keeps windows as uint64 block counts
            raise InvalidInput(f"{flag} {value}: expected a number of blocks, at least 1")
    for flag, value in (("--prover-bond-wei", args.prover_bond_wei), ("--challenge-bond-wei", args.challenge_bond_wei)):
        if not 0 < value < 2**256:
            raise InvalidInput(f"{flag} {value}: expected a positive amount of wei")
    ctx = Context(args)
    model = ctx.model
    sender = ctx.sender("deploy")
    # Without --prover the deploying key proves too: a new user's `prove` and `submit` then just work.
    provers = [parse_address(p, "--prover") for p in args.prover] or [sender.address]
    params = OptimisticParams(prover_bond=args.prover_bond_wei, challenge_bond=args.challenge_bond_wei,
                              challenge_window=args.challenge_window, reveal_window=args.reveal_window,
                              answer_window=args.answer_window)
    deployed = deploy_contracts(sender, model, provers, params, deployments_path=args.deployments, zk=args.zk,
                                srs=args.srs)
    result = deployed.as_dict()
    zk_info = result.pop("zk")
    result.update(deployments=str(args.deployments), zk=zk_info)  # the keys in their former order
    if args.json:
        print_json(result)
        return EXIT_OK
    print(f"AttestationRegistry at {deployed.registry} on chain {deployed.chain_id} (deploy gas "
          f"{deployed.deploy_gas:,}), recorded in {args.deployments}")
    if deployed.previous_sets:
        newest, *older = deployed.previous_sets
        print(f"previous set kept: AttestationRegistry {newest}" + (f" and {len(older)} older" if older else "")
              + f" in {args.deployments}, beside this one (attestations made for them still verify)")
    print(f"OptimisticInference at {deployed.optimistic} (deploy gas {deployed.deploy_gas_optimistic:,})")
    print(f"DataAnchor at {deployed.data_anchor} (deploy gas {deployed.deploy_gas_data_anchor:,}; "
          "`--exchange calldata:` publishes through it)")
    if deployed.blob_anchor:
        print(f"BlobAnchor at {deployed.blob_anchor} (deploy gas {deployed.deploy_gas_blob_anchor:,}; "
              "`--exchange blobs:` publishes through it)")
    if deployed.zk:
        print(f"zk verifier at {deployed.zk.verifier} (deploy gas {deployed.zk.deploy_gas:,}; SRS {deployed.zk.srs})")
    print(f"registered model {model.name} root {deployed.model_root}; authorised {len(provers)} prover(s): "
          + ", ".join(provers))
    return EXIT_OK


def _new_password() -> str:
    from vcp_toolkit.attest.keys import PASSWORD_ENV

    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(f"set {PASSWORD_ENV} or run in a terminal to choose a password")
    import getpass

    password = getpass.getpass("new keystore password: ")
    if getpass.getpass("repeat: ") != password:
        raise InvalidInput("passwords differ")
    return password


def cmd_keygen(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.keys import create_keystore

    key = create_keystore(args.out, _new_password(), kdf=args.kdf)
    print(f"wrote {args.out} for address {key.address}")
    return EXIT_OK


DEFAULT_NODE_PORT = 8545


def _node_port(requested: int | None, host: str) -> int:
    """--port, or 8545 when it is free, or else a free port (the URL printed says which)."""
    from vcp_toolkit.chain.nodes import free_port, port_in_use

    if requested is not None:
        if not 0 < requested < 65536:
            raise InvalidInput(f"--port {requested}: expected 1..65535, or leave it out for a free one")
        return requested
    return DEFAULT_NODE_PORT if not port_in_use(DEFAULT_NODE_PORT, host) else free_port(host)


def _node_host(host: str) -> str:
    """--host: an IPv4 address. A dev node's accounts are unlocked, so anything beyond loopback is warned."""
    import ipaddress

    from vcp_toolkit.attest.files import printable

    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise InvalidInput(f"--host {printable(host)}: expected an IPv4 address such as 127.0.0.2") from None
    if not address.is_loopback:
        warn(f"vcp: WARNING: {host} is reachable beyond this machine, and a dev node's accounts are unlocked: "
             "anyone who reaches it can spend them")
    return str(address)


def cmd_node(args: argparse.Namespace) -> int:
    from vcp_toolkit.chain.nodes import LocalNode
    from vcp_toolkit.errors import ChainError

    if args.block_time is not None and not 0 < args.block_time < float("inf"):
        raise InvalidInput(f"--block-time {args.block_time}: expected a positive number of seconds "
                           "(leave it out to mine a block per transaction)")
    host = _node_host(args.host)
    port = _node_port(args.port, host)
    _stop_on_signals()
    with LocalNode(args.kind, port=port, block_time=args.block_time, hardfork=args.hardfork, host=host) as node:
        mining = f"a block every {args.block_time:g} s" if args.block_time else "a block per transaction"
        print(f"{args.kind} on {node.rpc_url} (chainId {node.chain_id}, {node.hardfork}, {mining}); Ctrl-C to stop",
              flush=True)
        try:
            while node.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return EXIT_OK
        raise ChainError(f"{args.kind} on port {port} stopped by itself (exit code {node.process.returncode}: "
                         f"{node.exit_reason()}); start it again with `vcp node {args.kind}`")


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop the node cleanly, even where SIGINT arrives ignored (a background job)."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


MAX_MINE_BLOCKS = 100_000


def cmd_mine(args: argparse.Namespace) -> int:
    from vcp_toolkit.chain.nodes import RpcChain

    if not 1 <= args.blocks <= MAX_MINE_BLOCKS:
        raise InvalidInput(f"--blocks {args.blocks}: expected 1..{MAX_MINE_BLOCKS:,}")
    chain = RpcChain(args.rpc_url)
    chain.mine(args.blocks)
    print(f"mined {args.blocks:,} block(s) on {args.rpc_url}; now at block {chain.w3.eth.block_number:,}")
    return EXIT_OK
