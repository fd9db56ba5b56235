"""The same flow on the three chains (embedded py-evm, Anvil, Ganache), identical gas, and the
lifecycle of the local nodes."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from conftest import deploy_registry

from vcp_toolkit.prover import Prover
from vcp_toolkit.chain.gas import ECRECOVER, NEW_STORAGE_SLOT, TX_BASE, calldata_gas, intrinsic_gas, submit_floor
from vcp_toolkit.chain.nodes import CHAIN_KINDS, Chain, LocalNode, RpcChain, free_port, open_chain
from vcp_toolkit.chain.registry import ModelStatus, Registry
from vcp_toolkit.chain.reverts import RegistryInvalidSignature, RegistryNonceUsed
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.errors import ChainError, ContractReverted, NodeStartError
from vcp_toolkit.attest.files import AttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.verifier import check_onchain, verify_files

pytestmark = pytest.mark.chain

EXPECTED_CHAIN_IDS = {"anvil": 31337, "ganache": 1337}


def sample(model, i: int = 0) -> np.ndarray:
    from vcp_toolkit.model.datasets import load_digits_split

    return model.quantize_input(load_digits_split().x_test[i])


# ---------------------------------------------------------------- the flow, on each chain


def test_flow_on_chain(any_chain: Chain, model, model_commitment, tmp_path: Path):
    registry, operator, prover_key = deploy_registry(any_chain, model_commitment)
    assert registry.domain.chain_id == any_chain.chain_id
    if any_chain.kind in EXPECTED_CHAIN_IDS:
        assert any_chain.chain_id == EXPECTED_CHAIN_IDS[any_chain.kind]
        assert any_chain.rpc_url.startswith("http://127.0.0.1:")
    assert registry.model_status(model_commitment.root) == ModelStatus.ACTIVE
    assert registry.is_prover(prover_key.address)
    proven = Prover(model, prover_key, registry.domain).prove(sample(model))
    att_path, _ = proven.save(tmp_path / "att.json")
    signed = AttestationFile.load(att_path)
    assert not check_onchain(registry, signed).recorded
    assert registry.hash_attestation(proven.attestation) == proven.digest
    assert registry.recover_signer(proven.attestation, proven.signature) == prover_key.address

    relayer = Sender(any_chain)
    relayer.ensure_funded()
    sub = registry.submit(relayer, proven.attestation, proven.signature)
    assert sub.digest == proven.digest
    assert sub.tx.gas_used <= 1.25 * submit_floor(sub.tx.calldata)
    assert sub.tx.gas_used > submit_floor(sub.tx.calldata)  # the floor is a floor
    assert sub.tx.execution_gas == sub.tx.gas_used - intrinsic_gas(sub.tx.calldata)

    report = verify_files(att_path, model)
    assert report.valid, report.reason
    status = check_onchain(registry, signed)
    assert status.recorded, status.reason
    assert registry.recorded_digest(prover_key.address, proven.attestation.nonce) == proven.digest


def test_revert_is_a_contract_error_on_every_chain(any_chain: Chain, model, model_commitment):
    registry, operator, prover_key = deploy_registry(any_chain, model_commitment)
    proven = Prover(model, prover_key, registry.domain).prove(sample(model, 1))
    registry.submit(operator, proven.attestation, proven.signature)
    with pytest.raises(ContractReverted):
        registry.submit(operator, proven.attestation, proven.signature)
    # a reverting eth_call is decoded on every chain
    bad = type(proven.signature)(v=29, r=proven.signature.r, s=proven.signature.s)
    with pytest.raises(RegistryInvalidSignature):
        registry.recover_signer(proven.attestation, bad)


def test_transaction_revert_is_typed_on_every_chain(any_chain: Chain, model, model_commitment, request):
    registry, operator, prover_key = deploy_registry(any_chain, model_commitment)
    proven = Prover(model, prover_key, registry.domain).prove(sample(model, 2), nonce=3)
    registry.submit(operator, proven.attestation, proven.signature)
    with pytest.raises(ContractReverted) as info:
        registry.submit(operator, proven.attestation, proven.signature)
    assert type(info.value) is RegistryNonceUsed, f"{type(info.value).__name__}: {info.value}"
    assert info.value.error_args[1] == 3


# ---------------------------------------------------------------- gas is the same everywhere

OPERATOR_KEY = bytes.fromhex("a1" * 32)
PROVER_KEY = SigningKey(bytes.fromhex("b2" * 32))


def _prove_with_v(prover: Prover, model, v: int, start_nonce: int):
    """Prove with the first nonce whose signature has this ``v``: Signatures.recover short-circuits
    on ``v != 27``, so submit's execution gas depends on v (by 20 gas) and nothing else."""
    for nonce in range(start_nonce, start_nonce + 64):
        proven = prover.prove(sample(model, 3), nonce=nonce, input_salt=b"\x01" * 32, output_salt=b"\x02" * 32)
        if proven.signature.v == v:
            return proven
    raise AssertionError(f"no signature with v={v} in 64 nonces")


def test_execution_gas_identical_across_chains(model, model_commitment):
    gas: dict[str, dict[str, int]] = {}
    used: dict[str, dict[str, int]] = {}
    for kind in CHAIN_KINDS:
        with open_chain(kind) as chain:
            assert chain.kind == kind
            operator = Sender(chain, OPERATOR_KEY)
            operator.ensure_funded()
            registry, deploy_tx = Registry.deploy(operator)
            register_tx = registry.register_model(operator, model_commitment.root)
            prover_tx = registry.set_prover(operator, PROVER_KEY.address)
            prover = Prover(model, PROVER_KEY, registry.domain)
            p27 = _prove_with_v(prover, model, 27, 0)
            p28 = _prove_with_v(prover, model, 28, 1000)
            s27 = registry.submit(operator, p27.attestation, p27.signature).tx
            s28 = registry.submit(operator, p28.attestation, p28.signature).tx
            for tx in (s27, s28):
                assert tx.gas_used <= 1.25 * submit_floor(tx.calldata), kind
            txs = {"deploy": deploy_tx, "register_model": register_tx, "set_prover": prover_tx,
                   "submit_v27": s27, "submit_v28": s28}
            gas[kind] = {name: tx.execution_gas for name, tx in txs.items()}
            used[kind] = {name: tx.gas_used for name, tx in txs.items() if not name.startswith("submit")}
    assert set(gas) == set(CHAIN_KINDS)
    assert gas["anvil"] == gas["embedded"], gas
    assert gas["ganache"] == gas["embedded"], gas
    # same key, same calldata: the whole gasUsed agrees too for the chain-independent transactions
    assert used["anvil"] == used["embedded"] == used["ganache"], used
    assert all(v > 0 for v in gas["embedded"].values())


def test_gas_arithmetic():
    assert calldata_gas(b"") == 0
    assert calldata_gas(b"\x00\x01\x00\xff") == 4 + 16 + 4 + 16
    assert intrinsic_gas(b"\x00" * 10) == TX_BASE + 40
    assert submit_floor(b"\x01") == TX_BASE + 16 + ECRECOVER + NEW_STORAGE_SLOT


# ---------------------------------------------------------------- local nodes


def _live_processes_in_group(pgid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process in the group that is not a zombie."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            out.append((int(entry), state))
    return out


@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_local_node_lifecycle(kind):
    node = LocalNode(kind)
    try:
        pid = node.process.pid
        assert node.kind == kind
        assert node.rpc_url == f"http://127.0.0.1:{node.port}"
        assert 1024 <= node.port <= 65535
        assert node.chain_id == EXPECTED_CHAIN_IDS[kind]
        assert node.process.poll() is None
        assert _live_processes_in_group(pid), "the node runs in its own process group"
        with socket.create_connection(("127.0.0.1", node.port), timeout=5):
            pass
    finally:
        node.close()
    assert node.process.poll() is not None  # the process LocalNode started has exited and was reaped
    # Anvil's npm wrapper runs the native binary as a child in the same group, which close() signals
    # but does not wait for: allow it a moment to exit.
    deadline = time.monotonic() + 10
    while _live_processes_in_group(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_processes_in_group(pid) == []
    with pytest.raises(requests.ConnectionError):
        requests.post(node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=5)
    node.close()  # idempotent


@pytest.mark.node
def test_two_nodes_get_different_ports():
    with LocalNode("anvil") as a, LocalNode("anvil") as b:
        assert a.port != b.port
        assert a.chain_id == b.chain_id == 31337
        assert a.w3.eth.block_number == b.w3.eth.block_number
        a.mine(3)
        assert a.w3.eth.block_number == b.w3.eth.block_number + 3


@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_local_node_that_exits_raises(kind):
    with pytest.raises(NodeStartError, match="exited with code") as info:
        LocalNode(kind, extra_args=("--no-such-option-for-vcp",))
    assert isinstance(info.value, ChainError)


@pytest.mark.node
def test_local_node_port_taken():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(NodeStartError):
            LocalNode("anvil", port=port)


def test_rpc_chain_to_closed_port():
    port = free_port()
    with pytest.raises(ChainError, match="no Ethereum node answers"):
        RpcChain(f"http://127.0.0.1:{port}")
    with pytest.raises(ChainError):
        open_chain("embedded", rpc_url=f"http://127.0.0.1:{port}")


def test_unknown_chain_kind():
    with pytest.raises(ChainError):
        open_chain("mainnet")


def test_embedded_chain_basics():
    with open_chain("embedded") as chain:
        assert chain.kind == "embedded" and chain.rpc_url is None
        assert len(chain.dev_accounts()) >= 1
        start = chain.w3.eth.block_number
        chain.mine(2)
        assert chain.w3.eth.block_number == start + 2
        key = SigningKey.generate()
        chain.fund(key.address, 12345)
        assert chain.w3.eth.get_balance(key.address) == 12345
