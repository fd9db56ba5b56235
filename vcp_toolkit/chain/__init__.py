"""Stage 4, the chain: nodes (embedded, Anvil, Ganache, any RPC) on a chosen fee schedule, one
transaction path, revert decoding, gas arithmetic, fees in money, the typed contract clients and
their deployment."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "Deployed": "vcp_toolkit.chain.deploy", "deploy_contracts": "vcp_toolkit.chain.deploy",
    "Deployment": "vcp_toolkit.chain.deployments",
    "FraudKind": "vcp_toolkit.chain.evidence",
    "Hardfork": "vcp_toolkit.chain.hardfork",
    "InputEvidence": "vcp_toolkit.chain.evidence",
    "NeuronEvidence": "vcp_toolkit.chain.evidence",
    "OutputEvidence": "vcp_toolkit.chain.evidence",
    "ECRECOVER": "vcp_toolkit.chain.gas",
    "NEW_STORAGE_SLOT": "vcp_toolkit.chain.gas",
    "TX_BASE": "vcp_toolkit.chain.gas",
    "calldata_gas": "vcp_toolkit.chain.gas",
    "submit_floor": "vcp_toolkit.chain.gas",
    "Chain": "vcp_toolkit.chain.nodes",
    "EmbeddedChain": "vcp_toolkit.chain.nodes",
    "LocalNode": "vcp_toolkit.chain.nodes",
    "RpcChain": "vcp_toolkit.chain.nodes",
    "open_chain": "vcp_toolkit.chain.nodes",
    "JobStatus": "vcp_toolkit.chain.optimistic",
    "OptimisticInference": "vcp_toolkit.chain.optimistic",
    "OptimisticParams": "vcp_toolkit.chain.optimistic",
    "Registry": "vcp_toolkit.chain.registry",
    "Sender": "vcp_toolkit.chain.tx", "TxOutcome": "vcp_toolkit.chain.tx",
}
__all__ = ["Chain", "Deployed", "Deployment", "ECRECOVER", "EmbeddedChain", "FraudKind", "Hardfork", "InputEvidence",
    "JobStatus", "LocalNode", "NEW_STORAGE_SLOT", "NeuronEvidence", "OptimisticInference", "OptimisticParams",
    "OutputEvidence", "Registry", "RpcChain", "Sender", "TX_BASE", "TxOutcome", "calldata_gas",
    "deploy_contracts", "open_chain", "submit_floor"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
