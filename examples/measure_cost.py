"""What does verifying one inference cost? Gas on-chain and time off-chain, side by side.

    python examples/measure_cost.py [embedded|anvil|ganache]
"""

import sys

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest import AttestationFile, SigningKey
from vcp_toolkit.bench import measure
from vcp_toolkit.chain import (ECRECOVER, NEW_STORAGE_SLOT, TX_BASE, Registry, Sender, calldata_gas, open_chain,
                       submit_floor)
from vcp_toolkit.commit import ModelCommitment
from vcp_toolkit.model import demo_model, load_digits_split
from vcp_toolkit.verifier import verify_attestation

kind = sys.argv[1] if len(sys.argv) > 1 else "embedded"
model = demo_model()
commitment = ModelCommitment(model)
x = model.quantize_input(load_digits_split().x_test[0])

with open_chain(kind) as chain:
    owner = Sender(chain)
    owner.ensure_funded()
    registry, _ = Registry.deploy(owner)
    registry.register_model(owner, commitment.root)
    key = SigningKey.generate()
    registry.set_prover(owner, key.address)
    proven = Prover(model, key, registry.domain).prove(x)
    gas = registry.submit(owner, proven.attestation, proven.signature).tx.gas_used
    calldata = registry.submit_calldata(proven.attestation, proven.signature)

signed = AttestationFile(proven.attestation, proven.domain, proven.signature, model.name, model.param_count, "-", "0" * 64)
offchain = measure(lambda: verify_attestation(signed, proven.bundle, model, model_commitment=commitment), repeats=101)
floor = submit_floor(calldata)
print(f"chain: {kind}")
print(f"on-chain submit: {gas:,} gas; floor {floor:,} = {TX_BASE:,} base + {calldata_gas(calldata):,} calldata "
      f"({len(calldata)} bytes) + {ECRECOVER:,} ecrecover + {NEW_STORAGE_SLOT:,} storage; ratio {gas / floor:.3f}x")
print(f"off-chain verification (re-execute + re-commit + ecrecover): median {offchain.median_s * 1e6:,.0f} µs "
      f"over {offchain.repeats} runs (min {offchain.min_s * 1e6:,.0f}, max {offchain.max_s * 1e6:,.0f})")
