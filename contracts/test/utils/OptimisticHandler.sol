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
/// a revert is caught and counted. Ghost state records what must never change: how often each
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
    uint256 public successes;
    uint256 public reverts;

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
        try oi.openJob{value: fee}(OptimisticFixture.modelRoot(), _inputCommitment(abi.encodePacked(input))) returns (
            uint256 jobId
        ) {
            inputOf[jobId] = abi.encodePacked(input);
            ethIn += fee;
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function cancelJob(uint256 actorSeed, uint256 jobSeed, bool asRequester) external {
        uint256 jobId = _job(jobSeed);
        address caller = asRequester ? oi.getJob(jobId).requester : _actor(actorSeed);
        vm.prank(caller);
        try oi.cancelJob(jobId) {
            _paidOut(jobId, IOptimisticInference.JobStatus.Cancelled);
        } catch {
            ++reverts;
        }
    }

    /// @param honest Whether the answer is the model's output; otherwise it is `wrong` (when that differs).
    function submitResult(uint256 actorSeed, uint256 jobSeed, bool honest, bytes1 wrong) external {
        uint256 jobId = _job(jobSeed);
        address prover = _actor(actorSeed);
        bytes memory output = OptimisticFixture.correctOutput(_inputFor(jobId));
        if (!honest) output = abi.encodePacked(wrong);
        bytes32 root = OptimisticFixture.traceRoot(_inputFor(jobId), output);
        vm.deal(prover, prover.balance + OptimisticFixture.PROVER_BOND);
        vm.prank(prover);
        try oi.submitResult{value: OptimisticFixture.PROVER_BOND}(jobId, _outputCommitment(output), root) {
            outputOf[jobId] = output;
            ethIn += OptimisticFixture.PROVER_BOND;
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function advance(uint256 blocks) external {
        vm.roll(block.number + _bound(blocks, 1, 40));
    }

    function finalize(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        vm.prank(_actor(actorSeed));
        try oi.finalize(jobId) {
            _paidOut(jobId, IOptimisticInference.JobStatus.Finalized);
        } catch {
            ++reverts;
        }
    }

    function proveNeuronFraud(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        address challenger = _actor(actorSeed);
        IOptimisticInference.NeuronEvidence memory e = OptimisticFixture.evidence(_inputFor(jobId), outputOf[jobId]);
        vm.deal(challenger, challenger.balance + OptimisticFixture.CHALLENGE_BOND);
        vm.prank(challenger);
        try oi.proveNeuronFraud{value: OptimisticFixture.CHALLENGE_BOND}(jobId, e) {
            ethIn += OptimisticFixture.CHALLENGE_BOND;
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function requestReveal(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        address requester = _actor(actorSeed);
        uint256 bond = OptimisticFixture.REVEAL_BOND;
        try oi.revealBondFor(jobId) returns (uint256 required) {
            bond = required;
        } catch {}
        vm.deal(requester, requester.balance + bond);
        vm.prank(requester);
        try oi.requestReveal{value: bond}(jobId) {
            ethIn += bond;
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function revealTrace(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        bytes[] memory t = OptimisticFixture.trace(_inputFor(jobId), outputOf[jobId]);
        vm.prank(oi.getJob(jobId).prover);
        try oi.revealTrace(jobId, t, _salt(), _salt()) {
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function slashWithheld(uint256 actorSeed, uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        vm.prank(_actor(actorSeed));
        try oi.slashWithheld(jobId) {
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function withdraw(uint256 actorSeed) external {
        address account = _actor(actorSeed);
        uint256 before = address(oi).balance;
        vm.prank(account);
        try oi.withdraw() {
            ethOut += before - address(oi).balance;
            ++successes;
        } catch {
            ++reverts;
        }
    }

    function _paidOut(uint256 jobId, IOptimisticInference.JobStatus status) private {
        feePayouts[jobId] += 1;
        if (terminal[jobId] == IOptimisticInference.JobStatus.None) terminal[jobId] = status;
        ++successes;
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    /// @dev An existing job most of the time; job 0 or the next id (neither exists) otherwise.
    function _job(uint256 seed) private view returns (uint256) {
        return _bound(seed, 0, jobCount() + 1);
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
