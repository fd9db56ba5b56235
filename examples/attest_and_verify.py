"""Attest one inference and verify it, on the embedded chain (no node, no Node.js).

    python examples/attest_and_verify.py [OUT_DIR]
"""

import sys
import tempfile
from pathlib import Path

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest import AttestationFile, SigningKey
from vcp_toolkit.chain import EmbeddedChain, Registry, Sender
from vcp_toolkit.commit import ModelCommitment
from vcp_toolkit.model import demo_model, load_digits_split
from vcp_toolkit.verifier import check_onchain, verify_files

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="vcp-demo-"))
model = demo_model()
x = model.quantize_input(load_digits_split().x_test[7])  # one held-out digit, as int8

with EmbeddedChain() as chain:
    # The registry owner deploys, registers the model root and authorises one prover key.
    owner = Sender(chain)
    owner.ensure_funded()  # dev chain: funded from an unlocked account
    registry, _ = Registry.deploy(owner)
    registry.register_model(owner, ModelCommitment(model).root)
    prover_key = SigningKey.generate()
    registry.set_prover(owner, prover_key.address)

    # The prover runs the model, commits to the trace, signs; the files land on disk first.
    proven = Prover(model, prover_key, registry.domain).prove(x)
    attestation_path, bundle_path = proven.save(out_dir / "attestation.json")
    print(f"prover says label {proven.label}; wrote {attestation_path} and {bundle_path}")

    # Anyone may relay it; the registry checks the signer, model and nonce.
    submission = registry.submit(owner, proven.attestation, proven.signature)
    print(f"recorded on-chain, gas {submission.tx.gas_used:,}")

    # A verifier re-executes from the files alone, then checks the chain holds this exact digest.
    report = verify_files(attestation_path, model)
    print(f"off-chain: valid={report.valid} ({', '.join(report.checks_passed)})")
    status = check_onchain(registry, AttestationFile.load(attestation_path))
    print(f"on-chain: recorded={status.recorded}")
    sys.exit(0 if report.valid and status.recorded else 1)
