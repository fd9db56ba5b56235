// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOwned} from "./IOwned.sol";
import {VcpEncoding} from "./VcpEncoding.sol";

/// @title IOptimisticInference
/// @notice Bonded inference jobs with a challenge window and one-transaction fraud proofs.
/// @dev Lifecycle of a job (an explicit state machine, deadlines in blocks):
///
///     openJob ──> Open ──submitResult──> Answered ──finalize (after window)──> Finalized
///                  │  ^                     │
///        cancelJob │  └── fraud proven / trace withheld (prover slashed, job re-opened)
///                  v
///              Cancelled
///
/// A result commits to the output (salted) and to the trace root: a Merkle root over every
/// layer's int8 activations, input first (docs/encoding.md). During the window anyone may
/// prove one of: a neuron of the trace is not what the registered model computes from the
/// previous layer (`proveNeuronFraud`); the trace's first vector is not the job's committed
/// input (`proveInputFraud`); its last vector is not the committed output (`proveOutputFraud`).
/// Data availability: the prover publishes the trace bundle off-chain; if it does not, anyone
/// may `requestReveal` and the prover must `revealTrace` on-chain within `revealWindow` blocks
/// or lose its bond (`slashWithheld`). All payouts are credited and pulled with `withdraw`.
interface IOptimisticInference is IOwned {
    enum JobStatus {
        None,
        Open,
        Answered,
        Finalized,
        Cancelled
    }

    /// @notice What a fraud proof showed.
    enum FraudKind {
        Neuron,
        Input,
        Output,
        Withheld,
        Operator
    }

    /// @notice A job and, while Answered, its result.
    struct Job {
        address requester;
        JobStatus status;
        uint64 deadline; // Open: answer deadline; Answered: end of the challenge window (inclusive)
        uint16 layers; // the model's layer count: a trace root has layers + 1 leaves
        uint8 modelDepth; // depth of the model root's tree (header + one leaf per neuron)
        bytes32 modelRoot;
        bytes32 inputCommitment;
        uint128 fee;
        address prover;
        uint64 revealDeadline; // non-zero while a reveal request is pending
        bool revealed;
        address revealRequester;
        uint96 revealBond; // what the pending reveal request paid (at least `revealBondFor` then)
        bytes32 outputCommitment;
        bytes32 traceRoot;
    }

    /// @notice What a registered model's header proved: enough to fix every proof's tree shape.
    struct ModelShape {
        uint16 layers; // dense: layers; graph: nodes (a trace has layers + 1 vectors or tensors either way)
        uint32 inWidth;
        uint32 neurons; // leaves of the model tree after its header
        uint32 traceBytes; // int8 values in one trace
        bool graph;
    }

    /// @notice Evidence that neuron (`neuron.layer`, `neuron.row`) of the committed trace is wrong.
    /// @param neuron The model leaf of that neuron; `neuronProof` proves it at `neuronIndex` of the model root.
    /// @param inputs Trace vector `neuron.layer` (the layer's input), proven by `inputsProof`.
    /// @param outputs Trace vector `neuron.layer + 1` (the layer's output), proven by `outputsProof`.
    struct NeuronEvidence {
        VcpEncoding.NeuronData neuron;
        uint256 neuronIndex;
        bytes32[] neuronProof;
        bytes inputs;
        bytes32[] inputsProof;
        bytes outputs;
        bytes32[] outputsProof;
    }

    event ModelRegistered(bytes32 indexed modelRoot, uint16 layers, uint32 inWidth, uint32 outWidth);
    event GraphModelRegistered(bytes32 indexed modelRoot, uint16 nodes, uint32 inputSize, uint32 leaves);
    event JobOpened(uint256 indexed jobId, address indexed requester, bytes32 indexed modelRoot,
        bytes32 inputCommitment, uint256 fee, uint64 answerDeadline);
    event ResultSubmitted(uint256 indexed jobId, address indexed prover, bytes32 outputCommitment, bytes32 traceRoot,
        uint64 challengeDeadline);
    event RevealRequested(uint256 indexed jobId, address indexed requester, uint64 revealDeadline);
    event TraceRevealed(uint256 indexed jobId, bytes[] trace, bytes32 inputSalt, bytes32 outputSalt);
    event FraudProven(uint256 indexed jobId, address indexed challenger, address indexed prover, FraudKind kind,
        uint256 layer, uint256 row);
    event ChallengeFailed(uint256 indexed jobId, address indexed challenger, FraudKind kind, uint256 layer,
        uint256 row);
    event JobReopened(uint256 indexed jobId, uint64 answerDeadline);
    event FraudClaimed(uint256 indexed jobId, address indexed claimant, bytes32 evidenceHash);
    event JobFinalized(uint256 indexed jobId, address indexed prover, uint256 payout);
    event JobCancelled(uint256 indexed jobId);
    event Withdrawn(address indexed account, uint256 amount);

    error OptimisticUnauthorizedAccount(address account);
    error OptimisticZeroAddress();
    error OptimisticInvalidParameter(string name);
    error OptimisticModelNotRegistered(bytes32 modelRoot);
    error OptimisticModelAlreadyRegistered(bytes32 modelRoot);
    error OptimisticInvalidHeader(bytes32 modelRoot);
    error OptimisticWrongValue(uint256 sent, uint256 expected);
    error OptimisticJobNotInStatus(uint256 jobId, JobStatus actual, JobStatus expected);
    error OptimisticDeadlinePassed(uint256 jobId, uint256 deadline, uint256 blockNumber);
    error OptimisticDeadlineNotReached(uint256 jobId, uint256 deadline, uint256 blockNumber);
    error OptimisticRevealPending(uint256 jobId, uint256 revealDeadline);
    error OptimisticNoRevealPending(uint256 jobId);
    error OptimisticAlreadyRevealed(uint256 jobId);
    error OptimisticNotProver(address caller, address prover);
    error OptimisticInvalidProof(uint256 jobId, string which);
    error OptimisticInvalidReveal(uint256 jobId, string which);
    error OptimisticNothingToWithdraw(address account);
    error OptimisticTransferFailed(address account, uint256 amount);
    error OptimisticClaimRequired(uint256 jobId);

    /// @notice Registers `modelRoot`, proving its header leaf (index 0) to learn the layer count. Owner only.
    function registerModel(
        bytes32 modelRoot,
        uint16 layers,
        uint32 inWidth,
        uint32 outWidth,
        uint32 neurons,
        bytes32 metadataDigest,
        bytes32[] calldata headerProof
    ) external;

    /// @notice Registers an operator graph's `modelRoot`, proving its graph header leaf (index 0). Owner only.
    function registerGraphModel(bytes32 modelRoot, bytes calldata header, bytes32[] calldata headerProof) external;

    /// @notice Opens a job on a registered model; `msg.value` (> 0) is the fee, escrowed.
    function openJob(bytes32 modelRoot, bytes32 inputCommitment) external payable returns (uint256 jobId);

    /// @notice The requester takes back the fee of a job nobody has answered (status Open).
    function cancelJob(uint256 jobId) external;

    /// @notice Answers an Open job before its answer deadline; `msg.value` must equal `proverBond`.
    function submitResult(uint256 jobId, bytes32 outputCommitment, bytes32 traceRoot) external payable;

    /// @notice During the window, asks the prover to publish the trace on-chain. `msg.value` must be at
    /// least `revealBondFor(jobId)` (the whole payment is the bond): it pays the prover's reveal, so a
    /// griefer who asks for data that was published anyway loses more than the prover spends.
    function requestReveal(uint256 jobId) external payable;

    /// @notice The prover publishes every trace vector (graph jobs: every tensor as uint32 C, H, W
    /// and its tiles, see IGraphOperators.revealedCommitments) and both salts; they must match the result's
    /// trace root and the job's input and output commitments. Extends the window by `challengeWindow`.
    function revealTrace(uint256 jobId, bytes[] calldata trace, bytes32 inputSalt, bytes32 outputSalt) external;

    /// @notice After a reveal deadline passed unanswered: slashes the prover and re-opens the job.
    function slashWithheld(uint256 jobId) external;

    /// @notice One-transaction fraud proof on one neuron. `msg.value` must equal `challengeBond`.
    /// @return fraud True if the neuron was wrong (prover slashed, job re-opened); false if it was
    /// right (the challenge bond goes to the prover). Invalid evidence reverts.
    function proveNeuronFraud(uint256 jobId, NeuronEvidence calldata evidence) external payable returns (bool fraud);

    /// @notice One-transaction fraud proof on one element of a graph job's trace (an operator's
    /// output, the input or the output), re-executed by `graphOperators` from opened tiles only.
    /// `msg.value` must equal `challengeBond`; settles like `proveNeuronFraud`.
    /// @param evidence `abi.encode(IGraphOperators.GraphEvidence)`; GraphOperators' errors
    /// (GraphInvalidEvidence, GraphMissingTile) are re-raised unchanged.
    function proveGraphFraud(uint256 jobId, bytes calldata evidence) external payable returns (bool fraud);

    /// @notice Fraud proof: `traceInput` (trace vector 0) differs from `input`, which opens the job's input commitment.
    function proveInputFraud(
        uint256 jobId,
        bytes calldata input,
        bytes32 inputSalt,
        bytes calldata traceInput,
        bytes32[] calldata traceProof
    ) external payable returns (bool fraud);

    /// @notice Fraud proof: the trace's last vector differs from `output`, which opens the output commitment.
    function proveOutputFraud(
        uint256 jobId,
        bytes calldata output,
        bytes32 outputSalt,
        bytes calldata traceOutput,
        bytes32[] calldata traceProof
    ) external payable returns (bool fraud);

    /// @notice Protection against copiers: commit to a fraud proof before sending it.
    /// @dev `commitment` = `claimCommitment(msg.sender, jobId, keccak256(proof call data after the
    /// job id))`, so it is bound to the claimant: a copied claim transaction gives the copier nothing.
    /// While any claim on a job is younger than `revealWindow` blocks, a fraud proof on it is
    /// accepted only from an account that claimed exactly that evidence in an earlier block, so a
    /// copied proof reverts (OptimisticClaimRequired) and the reward goes to whoever did the work.
    /// Claims cannot censor: a claimed proof always passes, and in the window's last block (when
    /// claims are refused) the gate is off. With no recent claim, proofs are first come, first served.
    function claimFraud(uint256 jobId, bytes32 commitment) external;

    /// @notice The commitment `claimant` passes to `claimFraud` for evidence hashing to `evidenceHash`.
    function claimCommitment(address claimant, uint256 jobId, bytes32 evidenceHash) external pure returns (bytes32);

    /// @notice After the window (and with no reveal pending): pays the prover fee + bond.
    function finalize(uint256 jobId) external;

    /// @notice Sends the caller everything credited to it.
    function withdraw() external;

    /// @notice The job `jobId`.
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice What `account` can withdraw.
    function credit(address account) external view returns (uint256);

    /// @notice Layer count of a registered model (0 if not registered).
    function modelLayers(bytes32 modelRoot) external view returns (uint16);

    /// @notice An upper bound on the gas of `revealTrace` for `modelRoot` (tests check it against
    /// measured reveals on every schedule vcp runs).
    function revealGasBound(bytes32 modelRoot) external view returns (uint256);

    /// @notice The least `requestReveal` takes now: `revealBond` + `revealGasBound` at twice the base fee.
    function revealBondFor(uint256 jobId) external view returns (uint256);

    /// @notice Sum of every fee, bond and credit the contract holds for someone: always its balance.
    function totalOwed() external view returns (uint256);
}
