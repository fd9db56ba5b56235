"""Client for contracts/src/AttestationRegistry.sol."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.attest.eip712 import Attestation, BatchAttestation, Domain, Signature
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.tx import Sender, TxOutcome, calldata

ARTIFACT = "AttestationRegistry"
RECORDED_TOPIC = keccak(text="AttestationRecorded(bytes32,address,bytes32,uint256)")
BATCH_TOPIC = keccak(text="BatchRecorded(bytes32,address,bytes32,uint256,uint256)")


class ModelStatus(IntEnum):
    UNREGISTERED = 0
    ACTIVE = 1
    RETIRED = 2


@dataclass(frozen=True)
class Submission:
    """A recorded attestation: its digest as the contract computed it, and the transaction."""

    digest: bytes
    tx: TxOutcome


class Registry:
    """A deployed AttestationRegistry on ``chain``."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract: Contract = chain.w3.eth.contract(address=self.address, abi=load_artifact(ARTIFACT)["abi"])

    @classmethod
    def deploy(cls, sender: Sender, owner: str | None = None) -> tuple["Registry", TxOutcome]:
        artifact = load_artifact(ARTIFACT)
        factory = sender.chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        data = bytes.fromhex(factory.constructor(owner or sender.address).data_in_transaction[2:])
        outcome = sender.transact(to=None, data=data, action="deploying AttestationRegistry")
        return cls(sender.chain, outcome.contract_address), outcome

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain.chain_id, verifying_contract=self.address)

    def _submission(self, outcome: TxOutcome, topic: bytes) -> Submission:
        """The digest a successful submit recorded, read from its event."""
        for log in outcome.logs:
            if log["address"] == self.address and bytes(log["topics"][0]) == topic:
                return Submission(digest=bytes(log["topics"][1]), tx=outcome)
        raise AssertionError("record event missing from a successful submit")  # contract invariant

    def _send(self, sender: Sender, fn, action: str) -> TxOutcome:
        data = calldata(fn)
        return sender.transact(to=self.address, data=data, action=action)

    def register_model(self, sender: Sender, model_root: bytes) -> TxOutcome:
        return self._send(sender, self.contract.functions.registerModel(model_root), "registering the model")

    def retire_model(self, sender: Sender, model_root: bytes) -> TxOutcome:
        return self._send(sender, self.contract.functions.retireModel(model_root), "retiring the model")

    def set_prover(self, sender: Sender, prover: str, authorized: bool = True) -> TxOutcome:
        return self._send(sender, self.contract.functions.setProver(prover, authorized), "authorising the prover")

    def transfer_ownership(self, sender: Sender, new_owner: str) -> TxOutcome:
        return self._send(sender, self.contract.functions.transferOwnership(new_owner), "transferring ownership")

    def submit_calldata(self, attestation: Attestation, signature: Signature) -> bytes:
        fn = self.contract.functions.submitAttestation(attestation.as_tuple(), signature.v, signature.r, signature.s)
        return calldata(fn)

    def submit(self, sender: Sender, attestation: Attestation, signature: Signature) -> Submission:
        data = self.submit_calldata(attestation, signature)
        outcome = sender.transact(to=self.address, data=data, action="submitting the attestation")
        return self._submission(outcome, RECORDED_TOPIC)

    def submit_batch_calldata(self, batch: BatchAttestation, signature: Signature) -> bytes:
        fn = self.contract.functions.submitBatch(batch.as_tuple(), signature.v, signature.r, signature.s)
        return calldata(fn)

    def submit_batch(self, sender: Sender, batch: BatchAttestation, signature: Signature) -> Submission:
        outcome = sender.transact(to=self.address, data=self.submit_batch_calldata(batch, signature),
                                  action="submitting the batch")
        return self._submission(outcome, BATCH_TOPIC)

    def verify_record(self, batch: BatchAttestation, record: tuple[bytes, bytes, bytes], index: int,
                      proof: list[bytes]) -> bool:
        with chain_errors("checking a record on-chain"):
            return bool(self.contract.functions.verifyRecord(batch.as_tuple(), record, index, proof).call())

    def verify_record_tx(self, sender: Sender, batch: BatchAttestation, record: tuple[bytes, bytes, bytes],
                         index: int, proof: list[bytes]) -> TxOutcome:
        """Check one record in a real transaction, to measure what an on-chain consumer pays
        (py-evm's eth_estimateGas over-estimates this call by ~8k)."""
        fn = self.contract.functions.verifyRecord(batch.as_tuple(), record, index, proof)
        return sender.transact(to=self.address, data=calldata(fn),
                               action="checking a record on-chain")

    def hash_batch(self, batch: BatchAttestation) -> bytes:
        with chain_errors("hashing on-chain"):
            return bytes(self.contract.functions.hashBatch(batch.as_tuple()).call())

    # ------------------------------------------------------------------ zk attestations

    def deploy_zk_verifier(self, sender: Sender, bytecode: str) -> TxOutcome:
        """Deploy an EZKL-generated verifier (compiled with the project's solcjs)."""
        return sender.transact(to=None, data=bytes.fromhex(bytecode.removeprefix("0x")),
                               action="deploying the zk verifier")

    def set_zk_verifier(self, sender: Sender, model_root: bytes, verifier: str, input_scale: int, in_width: int,
                        out_width: int) -> TxOutcome:
        fn = self.contract.functions.setZkVerifier(model_root, (verifier, input_scale, in_width, out_width))
        return self._send(sender, fn, "registering the zk verifier")

    def submit_zk_calldata(self, attestation: Attestation, proof: bytes, instances: list[int], input_values: bytes,
                           input_salt: bytes, output_salt: bytes) -> bytes:
        fn = self.contract.functions.submitZkAttestation(attestation.as_tuple(), proof, list(instances), input_values,
                                                         input_salt, output_salt)
        return calldata(fn)

    def submit_zk(self, sender: Sender, attestation: Attestation, proof: bytes, instances: list[int],
                  input_values: bytes, input_salt: bytes, output_salt: bytes) -> Submission:
        data = self.submit_zk_calldata(attestation, proof, instances, input_values, input_salt, output_salt)
        outcome = sender.transact(to=self.address, data=data, action="submitting the zk attestation")
        return self._submission(outcome, RECORDED_TOPIC)

    def zk_verifier(self, model_root: bytes) -> str | None:
        """The zk verifier contract registered for ``model_root``, or None."""
        with chain_errors("reading the zk verifier"):
            info = self.contract.functions.zkVerifier(model_root).call()
        return None if int(info[0], 16) == 0 else to_checksum_address(info[0])

    def recorded_digest(self, prover: str, nonce: int) -> bytes:
        with chain_errors("reading the registry"):
            return bytes(self.contract.functions.recordedDigest(prover, nonce).call())

    def hash_attestation(self, attestation: Attestation) -> bytes:
        with chain_errors("hashing on-chain"):
            return bytes(self.contract.functions.hashAttestation(attestation.as_tuple()).call())

    def recover_signer(self, attestation: Attestation, signature: Signature) -> str:
        with chain_errors("recovering on-chain"):
            return self.contract.functions.recoverSigner(
                attestation.as_tuple(), signature.v, signature.r, signature.s).call()

    def model_status(self, model_root: bytes) -> ModelStatus:
        with chain_errors("reading the registry"):
            return ModelStatus(self.contract.functions.modelStatus(model_root).call())

    def is_prover(self, prover: str) -> bool:
        with chain_errors("reading the registry"):
            return bool(self.contract.functions.isProver(prover).call())

    def owner(self) -> str:
        with chain_errors("reading the registry"):
            return self.contract.functions.owner().call()
