// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOwned} from "./IOwned.sol";

/// @title IAttestationRegistry
/// @notice Records EIP-712 attestations that an authorised prover ran a registered model.
/// @dev The typed data is mirrored by `vcp/attest/eip712.py`; both sides check the shared vectors in
/// `tests/vectors/eip712.json`. Domain: {name: "vcp", version: "1", chainId, verifyingContract}.
interface IAttestationRegistry is IOwned {
    /// @notice The signed claim. `prover` is also the expected signer.
    /// @param modelRoot Merkle root of the fixed-point model (header leaf + one leaf per neuron).
    /// @param inputCommitment Salted keccak256 commitment to the int8 input vector.
    /// @param outputCommitment Salted keccak256 commitment to the int8 output vector.
    /// @param traceRoot Merkle root over every layer's activation vector, input to output.
    /// @param jobId The job this answers (zero for a stand-alone attestation).
    /// @param nonce Any value, used once per prover.
    struct Attestation {
        address prover;
        bytes32 modelRoot;
        bytes32 inputCommitment;
        bytes32 outputCommitment;
        bytes32 traceRoot;
        bytes32 jobId;
        uint256 nonce;
    }

    /// @notice One signature over `count` inference records (batched attestation).
    /// @param recordsRoot Merkle root over the records' leaves, in order:
    /// keccak256(0x00 || "R" || inputCommitment || outputCommitment || traceRoot), padded with zero.
    struct AttestationBatch {
        address prover;
        bytes32 modelRoot;
        bytes32 recordsRoot;
        uint256 count;
        uint256 nonce;
    }

    /// @notice One inference of a batch.
    struct Record {
        bytes32 inputCommitment;
        bytes32 outputCommitment;
        bytes32 traceRoot;
    }

    /// @notice The zk verifier registered for a model: an EZKL-generated Halo2 verifier whose
    /// public inputs are the model's int8 input codes times 2**inputScale, then its outputs.
    struct ZkVerifier {
        address verifier;
        uint8 inputScale;
        uint32 inWidth;
        uint32 outWidth;
    }

    /// @notice Lifecycle of a model root. Only `Active` models accept attestations.
    enum ModelStatus {
        Unregistered,
        Active,
        Retired
    }

    /// @notice Emitted when the owner registers a model root.
    event ModelRegistered(bytes32 indexed modelRoot);
    /// @notice Emitted when the owner retires a model root; earlier records stay valid.
    event ModelRetired(bytes32 indexed modelRoot);
    /// @notice Emitted when the owner authorises (`true`) or revokes (`false`) a prover.
    event ProverAuthorizationChanged(address indexed prover, bool authorized);
    /// @notice Emitted when a batch of `count` attestations is recorded under one signature.
    event BatchRecorded(bytes32 indexed digest, address indexed prover, bytes32 indexed modelRoot, uint256 nonce,
        uint256 count);
    /// @notice Emitted when the owner registers the zk verifier of a model.
    event ZkVerifierSet(bytes32 indexed modelRoot, address indexed verifier, uint8 inputScale, uint32 inWidth,
        uint32 outWidth);
    /// @notice Emitted when an attestation is recorded.
    event AttestationRecorded(bytes32 indexed digest, address indexed prover, bytes32 indexed modelRoot, uint256 nonce);

    /// @notice The caller is not the owner.
    error RegistryUnauthorizedAccount(address account);
    /// @notice The zero address was given where an account is required.
    error RegistryZeroAddress();
    /// @notice The model root is not in the state the call needs.
    error RegistryModelNotActive(bytes32 modelRoot, ModelStatus status);
    /// @notice A model root can only be registered once.
    error RegistryModelAlreadyRegistered(bytes32 modelRoot);
    /// @notice The attestation names a prover that is not authorised.
    error RegistryProverNotAuthorized(address prover);
    /// @notice This prover already used this nonce (replay or reuse).
    error RegistryNonceUsed(address prover, uint256 nonce);
    /// @notice The signature is malformed: v not 27/28, s in the upper half, or no signer recovered.
    error RegistryInvalidSignature();
    /// @notice The signature recovers to someone other than the attestation's prover.
    error RegistrySignerMismatch(address recovered, address expected);
    /// @notice A batch must hold at least one record.
    error RegistryEmptyBatch();
    /// @notice No zk verifier is registered for this model.
    error RegistryZkVerifierNotSet(bytes32 modelRoot);
    /// @notice A zk attestation's prover must be the account that submits it.
    error RegistryZkSubmitterMismatch(address prover, address submitter);
    /// @notice The proof has the wrong number of public values.
    error RegistryZkInstanceCount(uint256 actual, uint256 expected);
    /// @notice The input does not open the input commitment, or has the wrong length.
    error RegistryZkInputCommitment();
    /// @notice Public input `index` of the proof is not the committed input value.
    error RegistryZkInputMismatch(uint256 index);
    /// @notice The output commitment is not the commitment to the proof's public outputs.
    error RegistryZkOutputCommitment();
    /// @notice The trace root of a zk attestation must be keccak256(proof).
    error RegistryZkProofHash();
    /// @notice The zk verifier rejected the proof.
    error RegistryZkProofRejected();

    /// @notice Registers `modelRoot` as Active. Owner only.
    function registerModel(bytes32 modelRoot) external;

    /// @notice Retires an Active `modelRoot`: no new attestations. Owner only.
    function retireModel(bytes32 modelRoot) external;

    /// @notice Authorises or revokes `prover`. Owner only.
    function setProver(address prover, bool authorized) external;

    /// @notice Checks and records a signed attestation; anyone may relay it.
    /// @dev Reverts with RegistryModelNotActive, RegistryProverNotAuthorized, RegistryNonceUsed,
    /// RegistryInvalidSignature or RegistrySignerMismatch. Signature is (v, r, s), low-s only.
    /// @return digest The EIP-712 digest that was recorded.
    function submitAttestation(Attestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
        external
        returns (bytes32 digest);

    /// @notice Checks and records a signed batch: one storage slot for all `count` records.
    /// @dev Same checks and errors as `submitAttestation`, plus RegistryEmptyBatch. The nonce space
    /// is shared with single attestations.
    /// @return digest The EIP-712 digest that was recorded.
    function submitBatch(AttestationBatch calldata batch, uint8 v, bytes32 r, bytes32 s)
        external
        returns (bytes32 digest);

    /// @notice Registers the zk verifier of an Active model. Owner only.
    function setZkVerifier(bytes32 modelRoot, ZkVerifier calldata zk) external;

    /// @notice Records a zk attestation: no signature, the proof is the authority.
    /// @dev `attestation.prover` must be `msg.sender`: records are keyed by (submitter, nonce) like
    /// signed ones, so a copier who lands someone's proof first records it under its own address and
    /// can neither use up the original submitter's nonce nor bind its proof to other job ids in that
    /// submitter's name. `traceRoot` = keccak256(proof); the proof's public inputs must be
    /// the int8 `input` (opening `inputCommitment` with `inputSalt`) times 2**inputScale, as
    /// field elements; `outputCommitment` = keccak256(0x04 || outputSalt || uint32 n || outputs).
    function submitZkAttestation(
        Attestation calldata attestation,
        bytes calldata proof,
        uint256[] calldata instances,
        bytes calldata input,
        bytes32 inputSalt,
        bytes32 outputSalt
    ) external returns (bytes32 digest);

    /// @notice The zk verifier registered for `modelRoot` (zero verifier if none).
    function zkVerifier(bytes32 modelRoot) external view returns (ZkVerifier memory);

    /// @notice True iff `batch` is recorded here and `record` is its record number `index`.
    /// @param proof Sibling hashes from the record's leaf up to `batch.recordsRoot`.
    function verifyRecord(AttestationBatch calldata batch, Record calldata record, uint256 index,
        bytes32[] calldata proof) external view returns (bool);

    /// @notice The EIP-712 digest of `batch` under this registry's domain.
    function hashBatch(AttestationBatch calldata batch) external view returns (bytes32);

    /// @notice The EIP-712 digest of `attestation` under this registry's domain.
    function hashAttestation(Attestation calldata attestation) external view returns (bytes32);

    /// @notice The signer of `attestation`; reverts RegistryInvalidSignature if none.
    function recoverSigner(Attestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
        external
        view
        returns (address);

    /// @notice The digest recorded for (`prover`, `nonce`), or zero.
    function recordedDigest(address prover, uint256 nonce) external view returns (bytes32);

    /// @notice The status of `modelRoot`.
    function modelStatus(bytes32 modelRoot) external view returns (ModelStatus);

    /// @notice Whether `prover` may attest.
    function isProver(address prover) external view returns (bool);

    /// @notice The EIP-712 domain separator for this chain and contract.
    function domainSeparator() external view returns (bytes32);
}
