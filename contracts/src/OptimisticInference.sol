// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "./IOptimisticInference.sol";
import {Owned} from "./Owned.sol";
import {VcpEncoding} from "./VcpEncoding.sol";
import {MerkleProofs} from "./MerkleProofs.sol";
import {FixedPointNeuron} from "./FixedPointNeuron.sol";
import {IGraphOperators} from "./IGraphOperators.sol";

/// @title OptimisticInference
/// @notice Optimistic verification of off-chain inference: results stand unless a one-transaction
/// fraud proof re-executes the one neuron (or the input/output link) that is wrong.
/// @dev Every final transition sets the status, credits, emits, and pays only through `withdraw`
/// (checks-effects-interactions, pull payments). `totalOwed` always equals the ETH balance.
contract OptimisticInference is IOptimisticInference, Owned {
    uint256 private constant _BPS = 10_000;

    /// @notice Bond a prover posts with each result.
    uint256 public immutable proverBond;
    /// @notice Bond a challenger posts with each fraud proof (lost to the prover if no fraud).
    uint256 public immutable challengeBond;
    /// @notice Flat part of a reveal request's bond; `revealBondFor` adds the reveal's gas at the
    /// current base fee (the whole bond goes to the prover when it reveals).
    uint256 public immutable revealBond;
    /// @notice Blocks after a result (or a reveal) during which fraud can be proven.
    uint64 public immutable challengeWindow;
    /// @notice Blocks an Open job can be answered; afterwards it can only be cancelled by its requester.
    uint64 public immutable answerWindow;
    /// @notice Blocks the prover has to answer a reveal request.
    uint64 public immutable revealWindow;
    /// @notice Share of a slashed bond that goes to whoever proved the fraud; the rest to the requester.
    uint256 public immutable challengerRewardBps;
    /// @notice Re-executes one element of an operator graph (conv, pools, add, ...) for `proveGraphFraud`.
    IGraphOperators public immutable graphOperators;

    uint256 private _nextJobId = 1;
    uint256 private _totalOwed;
    mapping(bytes32 modelRoot => ModelShape) private _models;
    mapping(uint256 jobId => Job) private _jobs;
    mapping(address account => uint256) private _credits;
    mapping(uint256 jobId => uint64 blockNumber) private _lastClaim;
    mapping(bytes32 claim => uint64 blockNumber) private _claims;

    constructor(
        address initialOwner,
        uint256 proverBond_,
        uint256 challengeBond_,
        uint256 revealBond_,
        uint64 challengeWindow_,
        uint64 answerWindow_,
        uint64 revealWindow_,
        uint256 challengerRewardBps_,
        IGraphOperators graphOperators_
    ) Owned(initialOwner) {
        if (address(graphOperators_) == address(0)) revert OptimisticInvalidParameter("graphOperators");
        if (proverBond_ == 0) revert OptimisticInvalidParameter("proverBond");
        if (challengeWindow_ == 0) revert OptimisticInvalidParameter("challengeWindow");
        if (revealWindow_ == 0) revert OptimisticInvalidParameter("revealWindow");
        if (answerWindow_ == 0) revert OptimisticInvalidParameter("answerWindow");
        if (challengerRewardBps_ > _BPS) revert OptimisticInvalidParameter("challengerRewardBps");
        proverBond = proverBond_;
        challengeBond = challengeBond_;
        revealBond = revealBond_;
        challengeWindow = challengeWindow_;
        answerWindow = answerWindow_;
        revealWindow = revealWindow_;
        challengerRewardBps = challengerRewardBps_;
        graphOperators = graphOperators_;
    }

    // ------------------------------------------------------------------ models

    /// @inheritdoc IOptimisticInference
    function registerModel(
        bytes32 modelRoot,
        uint16 layers,
        uint32 inWidth,
        uint32 outWidth,
        uint32 neurons,
        bytes32 metadataDigest,
        bytes32[] calldata headerProof
    ) external onlyOwner {
        if (_models[modelRoot].layers != 0) revert OptimisticModelAlreadyRegistered(modelRoot);
        bytes32 leaf = VcpEncoding.headerLeaf(layers, inWidth, outWidth, neurons, metadataDigest);
        if (layers == 0 || !MerkleProofs.verifyInTree(modelRoot, leaf, 0, uint256(neurons) + 1, headerProof)) {
            revert OptimisticInvalidHeader(modelRoot);
        }
        _models[modelRoot] = ModelShape({
            layers: layers, inWidth: inWidth, neurons: neurons, traceBytes: inWidth + neurons, graph: false
        });
        emit ModelRegistered(modelRoot, layers, inWidth, outWidth);
    }

    /// @inheritdoc IOptimisticInference
    function registerGraphModel(bytes32 modelRoot, bytes calldata header, bytes32[] calldata headerProof)
        external
        onlyOwner
    {
        if (_models[modelRoot].layers != 0) revert OptimisticModelAlreadyRegistered(modelRoot);
        (uint16 nodes, uint32 inputSize, uint32 leaves, uint32 traceBytes) = graphOperators.parseHeader(header);
        bytes32 leaf = keccak256(abi.encodePacked(bytes1(0x00), header));
        if (!MerkleProofs.verifyInTree(modelRoot, leaf, 0, leaves, headerProof)) revert OptimisticInvalidHeader(modelRoot);
        _models[modelRoot] = ModelShape({
            layers: nodes, inWidth: inputSize, neurons: leaves - 1, traceBytes: traceBytes, graph: true
        });
        emit GraphModelRegistered(modelRoot, nodes, inputSize, leaves);
    }

    // ------------------------------------------------------------------ job lifecycle

    /// @inheritdoc IOptimisticInference
    function openJob(bytes32 modelRoot, bytes32 inputCommitment) external payable returns (uint256 jobId) {
        ModelShape memory shape = _models[modelRoot];
        if (shape.layers == 0) revert OptimisticModelNotRegistered(modelRoot);
        if (msg.value == 0 || msg.value > type(uint128).max) revert OptimisticWrongValue(msg.value, 1);
        jobId = _nextJobId++;
        Job storage job = _jobs[jobId];
        job.requester = msg.sender;
        job.status = JobStatus.Open;
        job.deadline = uint64(block.number) + answerWindow;
        // The proof shapes ride in the job's first slot, so a fraud proof needs no model read.
        job.layers = shape.layers;
        job.modelDepth = uint8(MerkleProofs.depthFor(uint256(shape.neurons) + 1));
        job.modelRoot = modelRoot;
        job.inputCommitment = inputCommitment;
        job.fee = uint128(msg.value);
        _totalOwed += msg.value;
        emit JobOpened(jobId, msg.sender, modelRoot, inputCommitment, msg.value, job.deadline);
    }

    /// @inheritdoc IOptimisticInference
    function cancelJob(uint256 jobId) external {
        Job storage job = _jobInStatus(jobId, JobStatus.Open);
        if (msg.sender != job.requester) revert OptimisticUnauthorizedAccount(msg.sender);
        job.status = JobStatus.Cancelled;
        _credits[job.requester] += job.fee;
        emit JobCancelled(jobId);
    }

    /// @inheritdoc IOptimisticInference
    function submitResult(uint256 jobId, bytes32 outputCommitment, bytes32 traceRoot) external payable {
        Job storage job = _jobInStatus(jobId, JobStatus.Open);
        if (block.number > job.deadline) revert OptimisticDeadlinePassed(jobId, job.deadline, block.number);
        if (msg.value != proverBond) revert OptimisticWrongValue(msg.value, proverBond);
        job.status = JobStatus.Answered;
        job.prover = msg.sender;
        job.outputCommitment = outputCommitment;
        job.traceRoot = traceRoot;
        job.deadline = uint64(block.number) + challengeWindow;
        _totalOwed += msg.value;
        emit ResultSubmitted(jobId, msg.sender, outputCommitment, traceRoot, job.deadline);
    }

    /// @inheritdoc IOptimisticInference
    function finalize(uint256 jobId) external {
        Job storage job = _jobInStatus(jobId, JobStatus.Answered);
        if (block.number <= job.deadline) revert OptimisticDeadlineNotReached(jobId, job.deadline, block.number);
        if (job.revealDeadline != 0) revert OptimisticRevealPending(jobId, job.revealDeadline);
        job.status = JobStatus.Finalized;
        uint256 payout = uint256(job.fee) + proverBond;
        _credits[job.prover] += payout;
        emit JobFinalized(jobId, job.prover, payout);
    }

    /// @inheritdoc IOptimisticInference
    function withdraw() external {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert OptimisticNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        _totalOwed -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert OptimisticTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ data availability

    /// @inheritdoc IOptimisticInference
    function requestReveal(uint256 jobId) external payable {
        Job storage job = _openWindow(jobId);
        if (job.revealed) revert OptimisticAlreadyRevealed(jobId);
        if (job.revealDeadline != 0) revert OptimisticRevealPending(jobId, job.revealDeadline);
        uint256 required = _revealBondFor(job.modelRoot);
        if (msg.value < required || msg.value > type(uint96).max) revert OptimisticWrongValue(msg.value, required);
        job.revealDeadline = uint64(block.number) + revealWindow;
        job.revealRequester = msg.sender;
        job.revealBond = uint96(msg.value);
        _totalOwed += msg.value;
        emit RevealRequested(jobId, msg.sender, job.revealDeadline);
    }

    /// @inheritdoc IOptimisticInference
    function revealTrace(uint256 jobId, bytes[] calldata trace, bytes32 inputSalt, bytes32 outputSalt) external {
        Job storage job = _jobInStatus(jobId, JobStatus.Answered);
        if (job.revealDeadline == 0) revert OptimisticNoRevealPending(jobId);
        if (block.number > job.revealDeadline) revert OptimisticDeadlinePassed(jobId, job.revealDeadline, block.number);
        if (msg.sender != job.prover) revert OptimisticNotProver(msg.sender, job.prover);
        uint256 layers = job.layers;
        if (trace.length != layers + 1) revert OptimisticInvalidReveal(jobId, "length");
        (bytes32 root, bytes32 inputCommit, bytes32 outputCommit) = _models[job.modelRoot].graph
            ? graphOperators.revealedCommitments(trace, inputSalt, outputSalt)
            : (
                MerkleProofs.rootOfActivations(trace),
                VcpEncoding.inputCommitment(inputSalt, trace[0]),
                VcpEncoding.outputCommitment(outputSalt, trace[layers])
            );
        if (root != job.traceRoot) revert OptimisticInvalidReveal(jobId, "traceRoot");
        if (inputCommit != job.inputCommitment) revert OptimisticInvalidReveal(jobId, "input");
        if (outputCommit != job.outputCommitment) revert OptimisticInvalidReveal(jobId, "output");
        uint256 bond = job.revealBond;
        job.revealDeadline = 0;
        job.revealed = true;
        job.revealBond = 0;
        uint64 extended = uint64(block.number) + challengeWindow;
        if (extended > job.deadline) job.deadline = extended; // challengers get a full window on the data
        _credits[job.prover] += bond;
        emit TraceRevealed(jobId, trace, inputSalt, outputSalt);
    }

    /// @inheritdoc IOptimisticInference
    function slashWithheld(uint256 jobId) external {
        Job storage job = _jobInStatus(jobId, JobStatus.Answered);
        if (job.revealDeadline == 0) revert OptimisticNoRevealPending(jobId);
        if (block.number <= job.revealDeadline) {
            revert OptimisticDeadlineNotReached(jobId, job.revealDeadline, block.number);
        }
        address beneficiary = job.revealRequester;
        _credits[beneficiary] += job.revealBond;
        _slash(jobId, job, beneficiary, FraudKind.Withheld, 0, 0);
    }

    // ------------------------------------------------------------------ fraud proofs

    /// @inheritdoc IOptimisticInference
    function claimFraud(uint256 jobId, bytes32 commitment) external {
        Job storage job = _openWindow(jobId);
        // A claim in the last block could never be followed by its proof; it would only gate others.
        if (block.number >= job.deadline) revert OptimisticDeadlinePassed(jobId, job.deadline - 1, block.number);
        _claims[_claimKey(msg.sender, jobId, commitment)] = uint64(block.number);
        _lastClaim[jobId] = uint64(block.number);
        emit FraudClaimed(jobId, msg.sender, commitment);
    }

    /// @inheritdoc IOptimisticInference
    function proveNeuronFraud(uint256 jobId, NeuronEvidence calldata e) external payable returns (bool fraud) {
        Job storage job = _challengeable(jobId);
        VcpEncoding.NeuronData calldata n = e.neuron;
        bytes32 neuronLeaf = VcpEncoding.neuronLeaf(n);
        if (!MerkleProofs.verifyAtDepth(job.modelRoot, neuronLeaf, e.neuronIndex, job.modelDepth, e.neuronProof)) {
            revert OptimisticInvalidProof(jobId, "neuron");
        }
        if (n.weights.length != n.inWidth) revert OptimisticInvalidProof(jobId, "weights");
        uint256 vectors = uint256(job.layers) + 1;
        bytes32 inputsLeaf = VcpEncoding.activationLeaf(n.layer, e.inputs);
        if (!MerkleProofs.verifyInTree(job.traceRoot, inputsLeaf, n.layer, vectors, e.inputsProof)) {
            revert OptimisticInvalidProof(jobId, "inputs");
        }
        uint16 next = n.layer + 1;
        bytes32 outputsLeaf = VcpEncoding.activationLeaf(next, e.outputs);
        if (!MerkleProofs.verifyInTree(job.traceRoot, outputsLeaf, next, vectors, e.outputsProof)) {
            revert OptimisticInvalidProof(jobId, "outputs");
        }
        // A trace vector of the wrong width is itself wrong; otherwise recompute the neuron exactly.
        if (e.inputs.length != n.inWidth || e.outputs.length != n.outWidth) {
            fraud = true;
        } else {
            int8 expected = FixedPointNeuron.output(n.weights, e.inputs, n.bias, n.multiplier, n.shift, n.activation);
            fraud = expected != FixedPointNeuron.readInt8(e.outputs, n.row);
        }
        _settle(jobId, job, fraud, FraudKind.Neuron, n.layer, n.row);
    }

    /// @inheritdoc IOptimisticInference
    function proveGraphFraud(uint256 jobId, bytes calldata evidence) external payable returns (bool fraud) {
        Job storage job = _challengeable(jobId);
        // `evidence` is abi.encode(GraphEvidence): a 0x20 head, then the tuple. It is forwarded as
        // is behind the context (six static words), so GraphOperators reads it from calldata
        // without this contract decoding and re-encoding the nested arrays.
        if (evidence.length < 96 || uint256(bytes32(evidence[0:32])) != 0x20) {
            revert OptimisticInvalidProof(jobId, "encoding");
        }
        bytes memory call = abi.encodePacked(
            IGraphOperators.check.selector,
            abi.encode(job.modelRoot, job.modelDepth, job.layers, job.traceRoot, job.inputCommitment),
            abi.encode(job.outputCommitment, uint256(7 * 32)),
            evidence[32:]
        );
        (bool ok, bytes memory result) = address(graphOperators).staticcall(call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result)) // GraphOperators' own error, unchanged
            }
        }
        uint256 node;
        (fraud, node) = abi.decode(result, (bool, uint256));
        uint256 target = uint256(bytes32(evidence[32:64])); // checked by GraphOperators' decoder
        FraudKind kind = target == uint256(IGraphOperators.Target.Operator)
            ? FraudKind.Operator
            : (target == uint256(IGraphOperators.Target.Input) ? FraudKind.Input : FraudKind.Output);
        _settle(jobId, job, fraud, kind, node, uint256(bytes32(evidence[64:96])));
    }

    /// @inheritdoc IOptimisticInference
    function proveInputFraud(
        uint256 jobId,
        bytes calldata input,
        bytes32 inputSalt,
        bytes calldata traceInput,
        bytes32[] calldata traceProof
    ) external payable returns (bool fraud) {
        Job storage job = _challengeable(jobId);
        if (VcpEncoding.inputCommitment(inputSalt, input) != job.inputCommitment) {
            revert OptimisticInvalidProof(jobId, "input");
        }
        uint256 vectors = uint256(job.layers) + 1;
        if (!MerkleProofs.verifyInTree(job.traceRoot, VcpEncoding.activationLeaf(0, traceInput), 0, vectors, traceProof)) {
            revert OptimisticInvalidProof(jobId, "trace");
        }
        fraud = keccak256(input) != keccak256(traceInput);
        _settle(jobId, job, fraud, FraudKind.Input, 0, 0);
    }

    /// @inheritdoc IOptimisticInference
    function proveOutputFraud(
        uint256 jobId,
        bytes calldata output,
        bytes32 outputSalt,
        bytes calldata traceOutput,
        bytes32[] calldata traceProof
    ) external payable returns (bool fraud) {
        Job storage job = _challengeable(jobId);
        uint16 last = job.layers;
        if (VcpEncoding.outputCommitment(outputSalt, output) != job.outputCommitment) {
            revert OptimisticInvalidProof(jobId, "output");
        }
        bytes32 leaf = VcpEncoding.activationLeaf(last, traceOutput);
        if (!MerkleProofs.verifyInTree(job.traceRoot, leaf, last, uint256(last) + 1, traceProof)) {
            revert OptimisticInvalidProof(jobId, "trace");
        }
        fraud = keccak256(output) != keccak256(traceOutput);
        _settle(jobId, job, fraud, FraudKind.Output, last, 0);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOptimisticInference
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IOptimisticInference
    function credit(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IOptimisticInference
    function modelLayers(bytes32 modelRoot) external view returns (uint16) {
        return _models[modelRoot].layers;
    }

    /// @inheritdoc IOptimisticInference
    function revealGasBound(bytes32 modelRoot) public view returns (uint256) {
        ModelShape memory shape = _models[modelRoot];
        if (shape.layers == 0) revert OptimisticModelNotRegistered(modelRoot);
        uint256 bytes_ = shape.traceBytes;
        uint256 vectors = uint256(shape.layers) + 1;
        if (shape.graph) {
            // Measured on the built-in CNNs and ViT (tests/chain/test_graph_fraud.py, test_vit_fraud.py):
            // about 30 gas per trace byte of execution (tiles hashed in GraphOperators after a second
            // copy) plus calldata, which the EIP-7623 floor prices at up to 40 per byte; about 12k per
            // tensor (its tile tree and leaf, and the memory each adds: the ViT has 54 tensors); the
            // input tensor is re-ordered for its commitment (~100 gas per value), and the copies'
            // quadratic memory.
            return 200_000 + 14_000 * vectors + 48 * bytes_ + 120 * uint256(shape.inWidth) + (bytes_ * bytes_) / 131_072;
        }
        // Covers both schedules vcp runs: the EIP-7623 calldata floor (21,000 + 40 per calldata byte,
        // each vector adding at most 95 ABI bytes) and the execution cost (~80k fixed, about 21 per
        // byte for calldata, hashing and the event's copy), plus the quadratic memory cost of the
        // trace held about twice in memory (words**2 / 512 with words = bytes / 16).
        return 85_000 + 4_000 * vectors + 44 * bytes_ + (bytes_ * bytes_) / 131_072;
    }

    /// @inheritdoc IOptimisticInference
    function revealBondFor(uint256 jobId) external view returns (uint256) {
        Job storage job = _jobs[jobId];
        if (job.status == JobStatus.None) revert OptimisticJobNotInStatus(jobId, job.status, JobStatus.Answered);
        return _revealBondFor(job.modelRoot);
    }

    /// @inheritdoc IOptimisticInference
    function totalOwed() external view returns (uint256) {
        return _totalOwed;
    }

    /// @inheritdoc IOptimisticInference
    function claimCommitment(address claimant, uint256 jobId, bytes32 evidenceHash) public pure returns (bytes32) {
        return keccak256(abi.encode(claimant, jobId, evidenceHash));
    }

    /// @notice The id the next job will get.
    function nextJobId() external view returns (uint256) {
        return _nextJobId;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Owned's errors are this contract's own (OptimisticUnauthorizedAccount, OptimisticZeroAddress).
    function _unauthorizedError() internal pure override returns (bytes4) {
        return OptimisticUnauthorizedAccount.selector;
    }

    function _zeroAddressError() internal pure override returns (bytes4) {
        return OptimisticZeroAddress.selector;
    }

    function _jobInStatus(uint256 jobId, JobStatus expected) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status != expected) revert OptimisticJobNotInStatus(jobId, job.status, expected);
    }

    /// @dev An Answered job inside its challenge window.
    function _openWindow(uint256 jobId) private view returns (Job storage job) {
        job = _jobInStatus(jobId, JobStatus.Answered);
        if (block.number > job.deadline) revert OptimisticDeadlinePassed(jobId, job.deadline, block.number);
    }

    /// @dev `_openWindow`, the challenge bond paid, and (while claims are active) a prior claim.
    /// @dev `_openWindow`, the challenge bond paid, and the claim gate: while any claim on the job
    /// is younger than `revealWindow` blocks, a proof needs the sender's own claim of exactly this
    /// evidence from an earlier block. The gate never binds in the window's last block, and a
    /// claimed proof always passes it, so no sequence of claims can keep a valid proof out.
    function _challengeable(uint256 jobId) private returns (Job storage job) {
        job = _openWindow(jobId);
        if (msg.value != challengeBond) revert OptimisticWrongValue(msg.value, challengeBond);
        uint64 lastClaim = _lastClaim[jobId];
        bool gated = lastClaim != 0 && block.number <= uint256(lastClaim) + revealWindow && block.number < job.deadline;
        if (gated && !_claimedEarlier(jobId)) revert OptimisticClaimRequired(jobId);
        _totalOwed += msg.value;
    }

    /// @dev Whether the sender claimed this very call's evidence in an earlier block.
    function _claimedEarlier(uint256 jobId) private view returns (bool) {
        bytes32 commitment = claimCommitment(msg.sender, jobId, keccak256(msg.data[36:]));
        uint64 claimedAt = _claims[_claimKey(msg.sender, jobId, commitment)];
        return claimedAt != 0 && claimedAt < block.number;
    }

    /// @dev Keyed by the sender too, so a copied claim transaction records nothing for the original.
    function _claimKey(address claimant, uint256 jobId, bytes32 commitment) private pure returns (bytes32) {
        return keccak256(abi.encode(claimant, jobId, commitment));
    }

    function _revealBondFor(bytes32 modelRoot) private view returns (uint256) {
        // Twice the base fee: it covers the base fee doubling before the reveal (six full blocks).
        return revealBond + revealGasBound(modelRoot) * block.basefee * 2;
    }

    /// @dev Fraud: the challenger gets its bond back plus the reward. No fraud: the bond goes to the prover.
    function _settle(uint256 jobId, Job storage job, bool fraud, FraudKind kind, uint256 layer, uint256 row) private {
        if (fraud) {
            _credits[msg.sender] += challengeBond;
            _slash(jobId, job, msg.sender, kind, layer, row);
        } else {
            _credits[job.prover] += challengeBond;
            emit ChallengeFailed(jobId, msg.sender, kind, layer, row);
        }
    }

    /// @dev Splits the prover's bond between `beneficiary` and the requester, returns a pending
    /// reveal bond, and re-opens the job with its fee still escrowed.
    function _slash(uint256 jobId, Job storage job, address beneficiary, FraudKind kind, uint256 layer, uint256 row)
        private
    {
        address prover = job.prover;
        uint256 reward = proverBond * challengerRewardBps / _BPS;
        if (job.revealDeadline != 0 && kind != FraudKind.Withheld) _credits[job.revealRequester] += job.revealBond;
        job.status = JobStatus.Open;
        job.deadline = uint64(block.number) + answerWindow;
        job.prover = address(0);
        job.outputCommitment = bytes32(0);
        job.traceRoot = bytes32(0);
        job.revealDeadline = 0;
        job.revealed = false;
        job.revealRequester = address(0);
        job.revealBond = 0;
        _credits[beneficiary] += reward;
        _credits[job.requester] += proverBond - reward;
        emit FraudProven(jobId, beneficiary, prover, kind, layer, row);
        emit JobReopened(jobId, job.deadline);
    }
}
