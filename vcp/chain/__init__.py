"""Stage 4, the chain: nodes (embedded, Anvil, Ganache, any RPC), one transaction path, revert
decoding, gas arithmetic, the typed contract clients and their deployment."""

from vcp._exports import lazy_exports

_PUBLIC = {
    "Deployed": "vcp.chain.deploy", "deploy_contracts": "vcp.chain.deploy",
    "Deployment": "vcp.chain.deployments",
    "FraudKind": "vcp.chain.evidence",
    "InputEvidence": "vcp.chain.evidence",
    "NeuronEvidence": "vcp.chain.evidence",
    "OutputEvidence": "vcp.chain.evidence",
    "ECRECOVER": "vcp.chain.gas",
    "NEW_STORAGE_SLOT": "vcp.chain.gas",
    "TX_BASE": "vcp.chain.gas",
    "calldata_gas": "vcp.chain.gas",
    "submit_floor": "vcp.chain.gas",
    "Chain": "vcp.chain.nodes",
    "EmbeddedChain": "vcp.chain.nodes",
    "LocalNode": "vcp.chain.nodes",
    "RpcChain": "vcp.chain.nodes",
    "open_chain": "vcp.chain.nodes",
    "JobStatus": "vcp.chain.optimistic",
    "OptimisticInference": "vcp.chain.optimistic",
    "OptimisticParams": "vcp.chain.optimistic",
    "Registry": "vcp.chain.registry",
    "Sender": "vcp.chain.tx", "TxOutcome": "vcp.chain.tx",
}
__all__ = ["Chain", "Deployed", "Deployment", "ECRECOVER", "EmbeddedChain", "FraudKind", "InputEvidence",
    "JobStatus", "LocalNode", "NEW_STORAGE_SLOT", "NeuronEvidence", "OptimisticInference", "OptimisticParams",
    "OutputEvidence", "Registry", "RpcChain", "Sender", "TX_BASE", "TxOutcome", "calldata_gas",
    "deploy_contracts", "open_chain", "submit_floor"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
