"""Deploy the registry to a node that is already running, and submit an attestation there.

    vcp node anvil --port 8545 &           # or: npx ganache / your own node
    python examples/deploy_to_node.py http://127.0.0.1:8545

On a dev node (Anvil, Ganache) a throw-away key is funded from the node's unlocked account;
elsewhere set VCP_PRIVATE_KEY to a funded key.
"""

import sys
import tempfile
from pathlib import Path

from prover import Prover
from vcp.chain import deployments
from vcp.chain.gas import submit_floor
from vcp.chain.nodes import RpcChain
from vcp.chain.registry import Registry
from vcp.chain.tx import Sender
from vcp.commit.commitments import ModelCommitment
from vcp.model.datasets import load_digits_split
from vcp.attest.keys import SigningKey, key_from_env
from vcp.model.builtin import demo_model

if len(sys.argv) < 2:
    sys.exit("usage: deploy_to_node.py RPC_URL [DEPLOYMENTS_FILE]")
rpc_url = sys.argv[1]
deployments_file = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "deployments.json"

chain = RpcChain(rpc_url)
key = key_from_env() or SigningKey.generate()
owner = Sender(chain, key.reveal())
if chain.dev_accounts():
    owner.ensure_funded()

registry, deploy_tx = Registry.deploy(owner)
deployments.record(deployments_file, chain.chain_id, "AttestationRegistry", deployments.Deployment(
    address=registry.address, tx=deploy_tx.tx_hash, block=deploy_tx.block_number, deployer=owner.address,
    code_keccak=deployments.code_keccak(chain, registry.address)))
print(f"chain {chain.chain_id}: AttestationRegistry at {registry.address} (deploy gas {deploy_tx.gas_used:,})")

model = demo_model()
registry.register_model(owner, ModelCommitment(model).root)
registry.set_prover(owner, owner.address)  # here the owner also proves

proven = Prover(model, key, registry.domain).prove(model.quantize_input(load_digits_split().x_test[0]))
proven.save(deployments_file.parent / "attestation.json")
sub = registry.submit(owner, proven.attestation, proven.signature)
floor = submit_floor(sub.tx.calldata)
print(f"attestation recorded: gas {sub.tx.gas_used:,} (floor {floor:,}, {sub.tx.gas_used / floor:.3f}x)")
assert registry.recorded_digest(proven.attestation.prover, proven.attestation.nonce) == proven.digest
