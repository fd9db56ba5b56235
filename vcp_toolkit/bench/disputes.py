"""Gas of a one-transaction fraud proof as the disputed layer widens (the dispute row of `vcp bench`)."""

from __future__ import annotations

import secrets
from typing import Any

from vcp_toolkit.prover import cheats
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment, output_commitment, trace_root
from vcp_toolkit.model.synthetic import random_inputs, random_model
from vcp_toolkit.verifier import Claim, evidence_for, find_fault

OUTPUT_WIDTH = 10


def dispute_gas(chain: Chain, widths: list[int], params: OptimisticParams = OptimisticParams()) -> list[dict[str, Any]]:
    """For each width W: a W -> W -> 10 model, a prover that lies about one hidden neuron, and the
    gas of the fraud proof that re-executes that neuron (W multiply-adds) on-chain. Every account
    is fresh, so storage writes are priced cold: the worst case."""
    rows = []
    owner = Sender(chain)
    owner.ensure_funded()
    for width in widths:
        model = random_model([width, width, OUTPUT_WIDTH], seed=width)
        commitment = ModelCommitment(model)
        contract, _ = OptimisticInference.deploy(owner, params)
        contract.register_model(owner, commitment)
        requester, prover, challenger = Sender(chain), Sender(chain), Sender(chain)
        for account in (requester, prover, challenger):
            account.ensure_funded()
        x = random_inputs(model, 1, seed=width)[0]
        salt = secrets.token_bytes(32)
        from vcp_toolkit.commit.commitments import input_commitment

        job_id, _ = contract.open_job(requester, commitment.root, input_commitment(salt, x), 10**15)
        answer = cheats.wrong_hidden_layer(model, x, salt)
        contract.submit_result(prover, job_id, output_commitment(answer.output_salt, answer.trace[-1]),
                               trace_root(answer.trace))
        job = contract.job(job_id)
        fault = find_fault(model, Claim(job.input_commitment, job.output_commitment, job.trace_root),
                           answer.trace, answer.input_salt, answer.output_salt)
        outcome = contract.prove(challenger, job_id, evidence_for(fault, commitment, answer.trace))
        rows.append({
            "width": width, "params": model.param_count, "layer": fault.layer, "row": fault.row,
            "fraud": outcome.fraud, "gas": outcome.tx.gas_used, "calldata_bytes": len(outcome.tx.calldata),
            "execution_gas": outcome.tx.execution_gas,
        })
    return rows
