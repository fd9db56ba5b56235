"""Deploy vcp's contracts to a node that is already running, and submit an attestation there.

    vcp node anvil --port 8545 &           # or: npx ganache / your own node
    python examples/deploy_to_node.py http://127.0.0.1:8545

On a dev node (Anvil, Ganache) a throw-away key is funded from the node's unlocked account;
elsewhere set VCP_PRIVATE_KEY to a funded key.
"""

import sys
import tempfile
from pathlib import Path

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest import SigningKey, key_from_env
from vcp_toolkit.chain import Registry, RpcChain, Sender, deploy_contracts, submit_floor
from vcp_toolkit.model import demo_model, load_digits_split

if len(sys.argv) < 2:
    sys.exit("usage: deploy_to_node.py RPC_URL [DEPLOYMENTS_FILE]")
rpc_url = sys.argv[1]
deployments_file = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "deployments.json"

chain = RpcChain(rpc_url)
key = key_from_env() or SigningKey.generate()
owner = Sender(chain, key.reveal())
if chain.dev_accounts():
    owner.ensure_funded()

model = demo_model()
deployed = deploy_contracts(owner, model, provers=[owner.address], deployments_path=deployments_file)
print(f"chain {chain.chain_id}: AttestationRegistry at {deployed.registry} (deploy gas {deployed.deploy_gas:,}), "
      f"OptimisticInference at {deployed.optimistic}; recorded in {deployments_file}")
registry = Registry(chain, deployed.registry)  # here the owner is also the authorised prover

proven = Prover(model, key, registry.domain).prove(model.quantize_input(load_digits_split().x_test[0]))
proven.save(deployments_file.parent / "attestation.json")
sub = registry.submit(owner, proven.attestation, proven.signature)
floor = submit_floor(sub.tx.calldata)
print(f"attestation recorded: gas {sub.tx.gas_used:,} (floor {floor:,}, {sub.tx.gas_used / floor:.3f}x)")
assert registry.recorded_digest(proven.attestation.prover, proven.attestation.nonce) == proven.digest
