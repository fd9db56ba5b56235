"""Contract custom errors as Python exceptions, and revert data decoded into them.

Every ``error`` in the compiled ABIs has a class here (a test checks none is missing), so callers
catch ``RegistryNonceUsed`` rather than parse strings, and read its arguments by name
(``exc.fields["nonce"]``). ``ERROR_CLASSES`` is derived from the classes defined here.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from vcp_toolkit.contracts import artifact_names, load_artifact
from vcp_toolkit.errors import ContractReverted


class RegistryUnauthorizedAccount(ContractReverted):
    """Only the registry owner may do this."""


class RegistryZeroAddress(ContractReverted):
    """The zero address is not allowed here."""


class RegistryModelNotActive(ContractReverted):
    """The model root is not registered as active."""


class RegistryModelAlreadyRegistered(ContractReverted):
    """The model root is already registered."""


class RegistryProverNotAuthorized(ContractReverted):
    """The prover is not authorised by the registry owner."""


class RegistryNonceUsed(ContractReverted):
    """This prover already used this nonce: a replay or a reused nonce."""


class RegistryInvalidSignature(ContractReverted):
    """The signature is malformed or non-canonical (high s, bad v)."""


class RegistrySignerMismatch(ContractReverted):
    """The signature is valid but made by someone other than the attestation's prover."""


class RegistryEmptyBatch(ContractReverted):
    """A batch must hold at least one record."""


class RegistryZkVerifierNotSet(ContractReverted):
    """No zk verifier is registered for this model."""


class RegistryZkSubmitterMismatch(ContractReverted):
    """A zk attestation's prover must be the account that submits it (send it from that key)."""


class RegistryZkInstanceCount(ContractReverted):
    """The proof has the wrong number of public values."""


class RegistryZkInputCommitment(ContractReverted):
    """The input does not open the input commitment."""


class RegistryZkInputMismatch(ContractReverted):
    """The proof was made for another input than the committed one."""


class RegistryZkOutputCommitment(ContractReverted):
    """The output commitment is not the proof's public outputs."""


class RegistryZkProofHash(ContractReverted):
    """A zk attestation's trace root must be keccak256 of its proof."""


class RegistryZkProofRejected(ContractReverted):
    """The zk verifier rejected the proof."""


class NeuronWidthMismatch(ContractReverted):
    """The neuron's weight and input vectors have different lengths."""


class NeuronWidthOutOfRange(ContractReverted):
    """The neuron's width is 0 or above 4096 (vcp.model.fixedpoint.MAX_WIDTH)."""


class NeuronBiasOutOfRange(ContractReverted):
    """The neuron's bias is not an int32."""


class NeuronMultiplierOutOfRange(ContractReverted):
    """The neuron's multiplier is outside [1, 2**31)."""


class NeuronShiftOutOfRange(ContractReverted):
    """The neuron's shift is outside [1, 62]."""


class NeuronActivationUnknown(ContractReverted):
    """The activation is neither NONE (0) nor RELU (1)."""


class NeuronIndexOutOfRange(ContractReverted):
    """An int8 vector was read past its end."""


class OptimisticUnauthorizedAccount(ContractReverted):
    """Only the owner (or the job's requester) may do this."""


class OptimisticZeroAddress(ContractReverted):
    """The zero address is not allowed here."""


class OptimisticInvalidParameter(ContractReverted):
    """A deploy-time parameter is out of range."""


class OptimisticModelNotRegistered(ContractReverted):
    """The model root is not registered with the optimistic contract."""


class OptimisticModelAlreadyRegistered(ContractReverted):
    """The model root is already registered."""


class OptimisticInvalidHeader(ContractReverted):
    """The model header does not prove against the model root."""


class OptimisticWrongValue(ContractReverted):
    """The ETH sent is not the required fee or bond."""


class OptimisticJobNotInStatus(ContractReverted):
    """The job is not in the state this call needs."""


class OptimisticDeadlinePassed(ContractReverted):
    """Too late: the deadline for this step has passed."""


class OptimisticDeadlineNotReached(ContractReverted):
    """Too early: the window is still open."""


class OptimisticRevealPending(ContractReverted):
    """A reveal request is pending on this job."""


class OptimisticNoRevealPending(ContractReverted):
    """No reveal request is pending on this job."""


class OptimisticAlreadyRevealed(ContractReverted):
    """The trace of this result was already revealed."""


class OptimisticNotProver(ContractReverted):
    """Only the job's prover may do this."""


class OptimisticInvalidProof(ContractReverted):
    """The fraud-proof evidence does not prove against the commitments."""


class OptimisticInvalidReveal(ContractReverted):
    """The revealed trace does not match the committed roots."""


class OptimisticNothingToWithdraw(ContractReverted):
    """Nothing is credited to this account."""


class OptimisticTransferFailed(ContractReverted):
    """The payout transfer failed; the credit is kept."""


class OptimisticClaimRequired(ContractReverted):
    """Claims are active on this job: prove only evidence you claimed in an earlier block."""


class GraphInvalidEvidence(ContractReverted):
    """Graph fraud-proof evidence does not verify (``which`` names the leaf, tensor or tile)."""


class GraphMissingTile(ContractReverted):
    """A tile the disputed element reads is not in the evidence."""


class TransformerWidthOutOfRange(ContractReverted):
    """A transformer operator's row is empty or longer than 4096 values."""


class TransformerIndexOutOfRange(ContractReverted):
    """The disputed element's index is not inside its row."""


class TransformerLengthMismatch(ContractReverted):
    """A vector of a transformer operator has the wrong length (``expected``, ``actual``)."""


class TransformerParameterOutOfRange(ContractReverted):
    """A transformer operator's parameter (``name``) is outside its range."""


class DataAnchorNothingToPublish(ContractReverted):
    """A publish call with no items, or with an empty item (its index)."""


class BlobAnchorNothingToPublish(ContractReverted):
    """A blob publish call with no items, or with an empty item (its index)."""


class BlobAnchorBlobMissing(ContractReverted):
    """The items need more blobs (``needed``) than the transaction carries (``carried``)."""


class PanicError(ContractReverted):
    """A Solidity panic (assert, overflow, division by zero...)."""


class ErrorString(ContractReverted):
    """A revert with a reason string (``require(cond, "...")``)."""


_GENERIC = (PanicError, ErrorString)  # Solidity's own reverts, not custom errors of the contracts

# Every custom-error class above, by name: derived from the module, so adding a class is enough.
ERROR_CLASSES: dict[str, type[ContractReverted]] = {
    cls.__name__: cls for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, ContractReverted) and cls.__module__ == __name__
    and cls not in _GENERIC
}


def _signature(item: dict) -> str:
    def typ(inp: dict) -> str:
        if inp["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in inp["components"]) + ")" + inp["type"][5:]
        return inp["type"]

    return f"{item['name']}(" + ",".join(typ(i) for i in item["inputs"]) + ")"


@lru_cache(maxsize=1)
def abi_errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """selector -> (name, arg types, arg names) over every compiled contract."""
    table: dict[bytes, tuple[str, list[str], list[str]]] = {
        function_signature_to_4byte_selector("Error(string)"): ("ErrorString", ["string"], ["reason"]),
        function_signature_to_4byte_selector("Panic(uint256)"): ("PanicError", ["uint256"], ["code"]),
    }
    for name in artifact_names(include_test=True):
        for item in load_artifact(name)["abi"]:
            if item["type"] == "error":
                sig = _signature(item)
                types = sig[sig.index("(") + 1:-1]
                table[function_signature_to_4byte_selector(sig)] = (
                    item["name"], [t for t in types.split(",") if t], [i["name"] for i in item["inputs"]])
    return table


def _format(value: object, typ: str) -> str:
    if typ == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def decode_revert(data: bytes) -> ContractReverted:
    """The exception for raw revert ``data`` (selector + ABI-encoded arguments)."""
    if len(data) < 4:
        return ContractReverted("reverted without a reason")
    entry = abi_errors().get(data[:4])
    if entry is None:
        return ContractReverted(f"reverted with unknown error 0x{data[:4].hex()}")
    name, types, names = entry
    try:
        args = tuple(to_checksum_address(a) if t == "address" else a
                     for a, t in zip(abi_decode(types, data[4:]), types))
    except Exception:  # malformed payload from a node: keep the name, drop the args
        args = ()
    cls = ERROR_CLASSES.get(name) or {c.__name__: c for c in _GENERIC}.get(name, ContractReverted)
    detail = ", ".join(f"{n}={_format(a, t)}" for n, a, t in zip(names, args, types))
    message = f"{name}({detail}): {cls.__doc__}" if cls.__doc__ and cls is not ContractReverted else f"{name}({detail})"
    return cls(message, error_name=name, args=args, fields=dict(zip(names, args)))


def _chain_of(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _raw_bytes(exc: BaseException) -> bytes | None:
    """Revert bytes an eth-tester / py-evm exception carries as such (not re-decoded)."""
    first = exc.args[0] if exc.args else None
    if isinstance(first, Exception) and first.args and isinstance(first.args[0], bytes):
        return first.args[0]  # TransactionFailed(Revert(b"..."))
    if isinstance(first, bytes):
        return first
    if isinstance(first, str):
        text = first.removeprefix("execution reverted: ")
        if text.startswith(("b'", 'b"')):  # eth-tester reports a custom error as the repr of its bytes
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, bytes) else None
    return None


def revert_data_from(exc: BaseException) -> bytes | None:
    """Raw revert bytes carried by a web3 / eth-tester exception, or None if it is not a revert.

    web3's EthereumTesterProvider re-raises reverts with the payload decoded as if it were
    Error(string), which turns a custom error such as ``E(string)`` into bare text; the original
    exception, with the raw bytes, is still on the chain of causes, so that is read first.
    """
    for link in _chain_of(exc):
        data = getattr(link, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if isinstance(data, dict):  # Ganache: {"result": "0x..."}; others: {"data": "0x..."}
            for key in ("data", "result"):
                if isinstance(data.get(key), str) and data[key].startswith("0x"):
                    return bytes.fromhex(data[key][2:])
    for link in reversed(_chain_of(exc)):  # innermost first: the least re-interpreted
        raw = _raw_bytes(link)
        if raw is not None:
            return raw
    message = str(exc.args[0]) if exc.args else ""
    if message.startswith("execution reverted"):
        return b""
    return None
