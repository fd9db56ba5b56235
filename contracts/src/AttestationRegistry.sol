// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAttestationRegistry} from "./IAttestationRegistry.sol";
import {Owned} from "./Owned.sol";
import {Signatures} from "./Signatures.sol";
import {MerkleProofs} from "./MerkleProofs.sol";
import {VcpEncoding} from "./VcpEncoding.sol";

/// @notice The one function of an EZKL-generated Halo2 verifier that the registry calls.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// @title AttestationRegistry
/// @notice Records EIP-712 inference attestations from authorised provers for registered models.
/// @dev One new storage slot per attestation (prover, nonce) -> digest: the gas floor vcp measures.
contract AttestationRegistry is IAttestationRegistry, Owned {
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("vcp");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    /// @dev Must equal vcp.attest.eip712.ATTESTATION_TYPE.
    bytes32 private constant _ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address prover,bytes32 modelRoot,bytes32 inputCommitment,bytes32 outputCommitment,bytes32 traceRoot,bytes32 jobId,uint256 nonce)"
    );

    /// @dev Must equal vcp.attest.eip712.BATCH_TYPE.
    bytes32 private constant _BATCH_TYPEHASH =
        keccak256("AttestationBatch(address prover,bytes32 modelRoot,bytes32 recordsRoot,uint256 count,uint256 nonce)");

    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    mapping(bytes32 modelRoot => ModelStatus) private _models;
    mapping(address prover => bool) private _provers;
    mapping(address prover => mapping(uint256 nonce => bytes32 digest)) private _records;
    mapping(bytes32 modelRoot => ZkVerifier) private _zkVerifiers;

    /// @dev BN254 scalar field: a zk proof's public values are elements of it.
    uint256 private constant _FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    constructor(address initialOwner) Owned(initialOwner) {
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @inheritdoc IAttestationRegistry
    function registerModel(bytes32 modelRoot) external onlyOwner {
        if (_models[modelRoot] != ModelStatus.Unregistered) revert RegistryModelAlreadyRegistered(modelRoot);
        _models[modelRoot] = ModelStatus.Active;
        emit ModelRegistered(modelRoot);
    }

    /// @inheritdoc IAttestationRegistry
    function retireModel(bytes32 modelRoot) external onlyOwner {
        ModelStatus status = _models[modelRoot];
        if (status != ModelStatus.Active) revert RegistryModelNotActive(modelRoot, status);
        _models[modelRoot] = ModelStatus.Retired;
        emit ModelRetired(modelRoot);
    }

    /// @inheritdoc IAttestationRegistry
    function setProver(address prover, bool authorized) external onlyOwner {
        if (prover == address(0)) revert RegistryZeroAddress();
        _provers[prover] = authorized;
        emit ProverAuthorizationChanged(prover, authorized);
    }

    /// @inheritdoc IAttestationRegistry
    function submitAttestation(Attestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
        external
        returns (bytes32 digest)
    {
        _checkSubmission(attestation.modelRoot, attestation.prover, attestation.nonce);
        digest = _hashAttestation(attestation);
        _checkSigner(digest, v, r, s, attestation.prover);
        _records[attestation.prover][attestation.nonce] = digest;
        emit AttestationRecorded(digest, attestation.prover, attestation.modelRoot, attestation.nonce);
    }

    /// @inheritdoc IAttestationRegistry
    function submitBatch(AttestationBatch calldata batch, uint8 v, bytes32 r, bytes32 s)
        external
        returns (bytes32 digest)
    {
        if (batch.count == 0) revert RegistryEmptyBatch();
        _checkSubmission(batch.modelRoot, batch.prover, batch.nonce);
        digest = _hashBatch(batch);
        _checkSigner(digest, v, r, s, batch.prover);
        _records[batch.prover][batch.nonce] = digest;
        emit BatchRecorded(digest, batch.prover, batch.modelRoot, batch.nonce, batch.count);
    }

    /// @inheritdoc IAttestationRegistry
    function setZkVerifier(bytes32 modelRoot, ZkVerifier calldata zk) external onlyOwner {
        ModelStatus status = _models[modelRoot];
        if (status != ModelStatus.Active) revert RegistryModelNotActive(modelRoot, status);
        if (zk.verifier == address(0)) revert RegistryZeroAddress();
        _zkVerifiers[modelRoot] = zk;
        emit ZkVerifierSet(modelRoot, zk.verifier, zk.inputScale, zk.inWidth, zk.outWidth);
    }

    /// @inheritdoc IAttestationRegistry
    function submitZkAttestation(
        Attestation calldata attestation,
        bytes calldata proof,
        uint256[] calldata instances,
        bytes calldata input,
        bytes32 inputSalt,
        bytes32 outputSalt
    ) external returns (bytes32 digest) {
        ZkVerifier memory zk = _zkVerifiers[attestation.modelRoot];
        ModelStatus status = _models[attestation.modelRoot];
        if (status != ModelStatus.Active) revert RegistryModelNotActive(attestation.modelRoot, status);
        if (zk.verifier == address(0)) revert RegistryZkVerifierNotSet(attestation.modelRoot);
        if (attestation.prover != msg.sender) revert RegistryZkSubmitterMismatch(attestation.prover, msg.sender);
        if (_records[msg.sender][attestation.nonce] != bytes32(0)) {
            revert RegistryNonceUsed(msg.sender, attestation.nonce);
        }
        _checkZkBinding(attestation, zk, proof, instances, input, inputSalt, outputSalt);
        // The verifier is registered by the owner; a failing call and a false answer both reject.
        try IHalo2Verifier(zk.verifier).verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert RegistryZkProofRejected();
        } catch {
            revert RegistryZkProofRejected();
        }
        digest = _hashAttestation(attestation);
        _records[msg.sender][attestation.nonce] = digest;
        emit AttestationRecorded(digest, msg.sender, attestation.modelRoot, attestation.nonce);
    }

    /// @inheritdoc IAttestationRegistry
    function zkVerifier(bytes32 modelRoot) external view returns (ZkVerifier memory) {
        return _zkVerifiers[modelRoot];
    }

    /// @inheritdoc IAttestationRegistry
    function verifyRecord(AttestationBatch calldata batch, Record calldata record, uint256 index,
        bytes32[] calldata proof) external view returns (bool)
    {
        if (_records[batch.prover][batch.nonce] != _hashBatch(batch)) return false;
        bytes32 leaf = VcpEncoding.recordLeaf(record.inputCommitment, record.outputCommitment, record.traceRoot);
        return MerkleProofs.verifyInTree(batch.recordsRoot, leaf, index, batch.count, proof);
    }

    /// @inheritdoc IAttestationRegistry
    function hashBatch(AttestationBatch calldata batch) external view returns (bytes32) {
        return _hashBatch(batch);
    }

    /// @inheritdoc IAttestationRegistry
    function hashAttestation(Attestation calldata attestation) external view returns (bytes32) {
        return _hashAttestation(attestation);
    }

    /// @inheritdoc IAttestationRegistry
    function recoverSigner(Attestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
        external
        view
        returns (address signer)
    {
        signer = Signatures.recover(_hashAttestation(attestation), v, r, s);
        if (signer == address(0)) revert RegistryInvalidSignature();
    }

    /// @inheritdoc IAttestationRegistry
    function recordedDigest(address prover, uint256 nonce) external view returns (bytes32) {
        return _records[prover][nonce];
    }

    /// @inheritdoc IAttestationRegistry
    function modelStatus(bytes32 modelRoot) external view returns (ModelStatus) {
        return _models[modelRoot];
    }

    /// @inheritdoc IAttestationRegistry
    function isProver(address prover) external view returns (bool) {
        return _provers[prover];
    }

    /// @inheritdoc IAttestationRegistry
    function domainSeparator() public view returns (bytes32) {
        // Recomputed after a chain split so signatures never carry over to the fork.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @dev Owned's errors are this contract's own (RegistryUnauthorizedAccount, RegistryZeroAddress).
    function _unauthorizedError() internal pure override returns (bytes4) {
        return RegistryUnauthorizedAccount.selector;
    }

    function _zeroAddressError() internal pure override returns (bytes4) {
        return RegistryZeroAddress.selector;
    }

    /// @dev Active model, authorised prover, unused nonce: the checks every submission shares.
    function _checkSubmission(bytes32 modelRoot, address prover, uint256 nonce) private view {
        ModelStatus status = _models[modelRoot];
        if (status != ModelStatus.Active) revert RegistryModelNotActive(modelRoot, status);
        if (!_provers[prover]) revert RegistryProverNotAuthorized(prover);
        if (_records[prover][nonce] != bytes32(0)) revert RegistryNonceUsed(prover, nonce);
    }

    function _checkSigner(bytes32 digest, uint8 v, bytes32 r, bytes32 s, address expected) private pure {
        address signer = Signatures.recover(digest, v, r, s);
        if (signer == address(0)) revert RegistryInvalidSignature();
        if (signer != expected) revert RegistrySignerMismatch(signer, expected);
    }

    /// @dev The proof's public values are the committed input and the committed output.
    function _checkZkBinding(
        Attestation calldata a,
        ZkVerifier memory zk,
        bytes calldata proof,
        uint256[] calldata instances,
        bytes calldata input,
        bytes32 inputSalt,
        bytes32 outputSalt
    ) private pure {
        uint256 inWidth = zk.inWidth;
        if (instances.length != inWidth + zk.outWidth) {
            revert RegistryZkInstanceCount(instances.length, inWidth + zk.outWidth);
        }
        if (input.length != inWidth || VcpEncoding.inputCommitment(inputSalt, input) != a.inputCommitment) {
            revert RegistryZkInputCommitment();
        }
        for (uint256 i = 0; i < inWidth; ++i) {
            int256 scaled = int256(int8(uint8(input[i]))) << zk.inputScale;
            uint256 expected = scaled >= 0 ? uint256(scaled) : _FIELD - uint256(-scaled);
            if (instances[i] != expected) revert RegistryZkInputMismatch(i);
        }
        // instances.length == inWidth + outWidth (checked above): the rest are the outWidth outputs.
        if (VcpEncoding.zkOutputCommitment(outputSalt, instances[inWidth:]) != a.outputCommitment) {
            revert RegistryZkOutputCommitment();
        }
        if (keccak256(proof) != a.traceRoot) revert RegistryZkProofHash();
    }

    function _hashBatch(AttestationBatch calldata b) private view returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(_BATCH_TYPEHASH, b.prover, b.modelRoot, b.recordsRoot, b.count, b.nonce));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    function _hashAttestation(Attestation calldata a) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                _ATTESTATION_TYPEHASH,
                a.prover,
                a.modelRoot,
                a.inputCommitment,
                a.outputCommitment,
                a.traceRoot,
                a.jobId,
                a.nonce
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }
}
