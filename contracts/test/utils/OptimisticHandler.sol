// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "../../src/IOptimisticInference.sol";
import {OptimisticInference} from "../../src/OptimisticInference.sol";
import {VcpEncoding} from "../../src/VcpEncoding.sol";
import {OptimisticFixture} from "./OptimisticFixture.sol";
import {VcpTest} from "./VcpTest.sol";

/// @title OptimisticHandler
/// @notice The invariant fuzzer's only target: random sequences of every OptimisticInference
/// action by four actors on the fixture model. Actions pick any job (any status, and sometimes
/// one that does not exist) and any caller, so the contract's own checks decide what succeeds;
/// a call the contract refuses reverts the action with its ghost updates (forge counts it in
/// the "Reverts" column of its invariant table; fail_on_revert is off). Ghost state records what must never change: how often each
/// job's fee was paid out, the final status a job reached, and the ETH that went in and out.
contract OptimisticHandler is VcpTest {
    OptimisticInference public immutable oi;
    address[4] internal _actors = [address(0xA11CE), address(0xB0B), address(0xCA41), address(0xD0D0)];

    mapping(uint256 jobId => bytes) public inputOf;
    mapping(uint256 jobId => bytes) public outputOf;
    /// @notice Successful finalize + cancel per job: the fee is paid out at most once.
    mapping(uint256 jobId => uint256) public feePayouts;
    /// @notice The status a job reached by finalize or cancel (None while it has not).
    mapping(uint256 jobId => IOptimisticInference.JobStatus) public terminal;
    uint256 public ethIn;
    uint256 public ethOut;

    constructor(OptimisticInference oi_) {
        oi = oi_;
    }

    function actors() external view returns (address[4] memory) {
        return _actors;
    }

    function jobCount() public view returns (uint256) {
        return oi.nextJobId() - 1;
    }

    function openJob(uint256 actorSeed, uint256 fee, bytes2 input) external {
        address requester = _actor(actorSeed);
        fee = _bound(fee, 1, 5 ether);
        vm.deal(requester, requester.balance + fee);
        vm.prank(requester);
        uint256 jobId = oi.openJob{value: fee}(OptimisticFixture.modelRoot(), _inputCommitment(abi.encodePacked(input)));
        inputOf[jobId] = abi.encodePacked(input);
        ethIn += fee;
    }

    function cancelJob(uint256 actorSeed, uint256 jobSeed, bool asRequester) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Open);
        address caller = asRequester ? oi.getJob(jobId).requester : _actor(actorSeed);
        vm.prank(caller);
        oi.cancelJob(jobId);
        _paidOut(jobId, IOptimisticInference.JobStatus.Cancelled);
    }

    /// @param honest Whether the answer is the model's output; otherwise it is `wrong` (when that differs).
    function submitResult(uint256 actorSeed, uint256 jobSeed, bool honest, bytes1 wrong) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Open);
        address prover = _actor(actorSeed);
        bytes memory output = OptimisticFixture.correctOutput(_inputFor(jobId));
        if (!honest) output = abi.encodePacked(wrong);
        bytes32 root = OptimisticFixture.traceRoot(_inputFor(jobId), output);
        vm.deal(prover, prover.balance + OptimisticFixture.PROVER_BOND);
        vm.prank(prover);
        oi.submitResult{value: OptimisticFixture.PROVER_BOND}(jobId, _outputCommitment(output), root);
        outputOf[jobId] = output;
        ethIn += OptimisticFixture.PROVER_BOND;
    }

    function advance(uint256 blocks) external {
        vm.roll(block.number + _bound(blocks, 1, 12));
    }

    /// @param wait Whether to let the job's deadline pass first (else finalize may come too early).
    function finalize(uint256 actorSeed, uint256 jobSeed, bool wait) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Answered);
        if (wait) _rollPast(oi.getJob(jobId).deadline);
        vm.prank(_actor(actorSeed));
        oi.finalize(jobId);
        _paidOut(jobId, IOptimisticInference.JobStatus.Finalized);
    }

    function proveNeuronFraud(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Answered);
        address challenger = _actor(actorSeed);
        IOptimisticInference.NeuronEvidence memory e = OptimisticFixture.evidence(_inputFor(jobId), outputOf[jobId]);
        vm.deal(challenger, challenger.balance + OptimisticFixture.CHALLENGE_BOND);
        vm.prank(challenger);
        oi.proveNeuronFraud{value: OptimisticFixture.CHALLENGE_BOND}(jobId, e);
        ethIn += OptimisticFixture.CHALLENGE_BOND;
    }

    function requestReveal(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Answered);
        address requester = _actor(actorSeed);
        uint256 bond = oi.revealBondFor(jobId);
        vm.deal(requester, requester.balance + bond);
        vm.prank(requester);
        oi.requestReveal{value: bond}(jobId);
        ethIn += bond;
    }

    function revealTrace(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Answered);
        bytes[] memory t = OptimisticFixture.trace(_inputFor(jobId), outputOf[jobId]);
        vm.prank(oi.getJob(jobId).prover);
        oi.revealTrace(jobId, t, _salt(), _salt());
    }

    /// @param wait Whether to let the reveal deadline pass first (else the slash may come too early).
    function slashWithheld(uint256 actorSeed, uint256 jobSeed, bool wait) external {
        uint256 jobId = _job(jobSeed, IOptimisticInference.JobStatus.Answered);
        if (wait) _rollPast(oi.getJob(jobId).revealDeadline);
        vm.prank(_actor(actorSeed));
        oi.slashWithheld(jobId);
    }

    function withdraw(uint256 actorSeed) external {
        address account = _creditor(actorSeed);
        uint256 before = address(oi).balance;
        vm.prank(account);
        oi.withdraw();
        ethOut += before - address(oi).balance;
    }

    function _rollPast(uint256 deadline) private {
        if (block.number <= deadline) vm.roll(deadline + 1);
    }

    function _paidOut(uint256 jobId, IOptimisticInference.JobStatus status) private {
        feePayouts[jobId] += 1;
        if (terminal[jobId] == IOptimisticInference.JobStatus.None) terminal[jobId] = status;
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    /// @dev Mostly a job in status `wanted` (the first from a random start), so that sequences get
    /// far; one time in eight any id from 0 to the next one (0 and the next do not exist).
    function _job(uint256 seed, IOptimisticInference.JobStatus wanted) private view returns (uint256) {
        uint256 n = jobCount();
        if (n == 0 || seed % 8 == 0) return _bound(seed >> 3, 0, n + 1);
        for (uint256 k = 0; k < n; ++k) {
            uint256 jobId = 1 + (seed + k) % n;
            if (oi.getJob(jobId).status == wanted) return jobId;
        }
        return 1 + seed % n;
    }

    /// @dev Mostly an actor with something to withdraw; one time in eight any actor.
    function _creditor(uint256 seed) private view returns (address) {
        if (seed % 8 == 0) return _actor(seed >> 3);
        for (uint256 k = 0; k < _actors.length; ++k) {
            address account = _actor(seed + k);
            if (oi.credit(account) > 0) return account;
        }
        return _actor(seed);
    }

    function _inputFor(uint256 jobId) private view returns (bytes memory input) {
        input = inputOf[jobId];
        if (input.length == 0) input = hex"0000";
    }

    /// @dev One salt for every commitment: the tests are about money and states, not about hiding.
    function _salt() private pure returns (bytes32) {
        return keccak256("vcp forge salt");
    }

    function _inputCommitment(bytes memory input) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(VcpEncoding.DOMAIN_INPUT, _salt(), uint32(input.length), input));
    }

    function _outputCommitment(bytes memory output) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(VcpEncoding.DOMAIN_OUTPUT, _salt(), uint32(output.length), output));
    }
}
