// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "../src/IOptimisticInference.sol";
import {OptimisticInference} from "../src/OptimisticInference.sol";
import {OptimisticFixture} from "./utils/OptimisticFixture.sol";
import {OptimisticHandler} from "./utils/OptimisticHandler.sol";
import {VcpTest} from "./utils/VcpTest.sol";

/// @notice Invariants of OptimisticInference over random action sequences (OptimisticHandler):
/// the contract's balance is what it owes, and that is exactly the escrow of live jobs plus every
/// credit; ETH is conserved; no job's fee is paid twice; a finalized or cancelled job stays so.
contract OptimisticInferenceInvariantTest is VcpTest {
    OptimisticInference internal oi;
    OptimisticHandler internal handler;

    function setUp() external {
        oi = OptimisticFixture.deploy(address(this));
        OptimisticFixture.register(oi);
        handler = new OptimisticHandler(oi);
    }

    /// @dev Read by forge: the handler is the only contract the invariant fuzzer calls.
    function targetContracts() external view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_balanceEqualsTotalOwed() external view {
        vm.assertEq(address(oi).balance, oi.totalOwed(), "balance != totalOwed()");
    }

    function invariant_totalOwedIsEscrowPlusCredits() external view {
        uint256 owed = 0;
        for (uint256 jobId = 1; jobId <= handler.jobCount(); ++jobId) {
            IOptimisticInference.Job memory job = oi.getJob(jobId);
            if (job.status == IOptimisticInference.JobStatus.Open) owed += job.fee;
            if (job.status == IOptimisticInference.JobStatus.Answered) {
                owed += uint256(job.fee) + OptimisticFixture.PROVER_BOND + job.revealBond;
            }
        }
        address[4] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) owed += oi.credit(actors[i]);
        vm.assertEq(oi.totalOwed(), owed, "totalOwed() != escrow of live jobs + credits");
    }

    function invariant_ethConserved() external view {
        vm.assertEq(handler.ethIn() - handler.ethOut(), address(oi).balance, "ETH in - ETH out != balance");
    }

    function invariant_noJobPaysTwice() external view {
        for (uint256 jobId = 0; jobId <= handler.jobCount() + 1; ++jobId) {
            vm.assertLe(handler.feePayouts(jobId), 1, string.concat("fee paid twice, job ", vm.toString(jobId)));
        }
    }

    function invariant_finalStatesStay() external view {
        for (uint256 jobId = 1; jobId <= handler.jobCount(); ++jobId) {
            IOptimisticInference.JobStatus reached = handler.terminal(jobId);
            if (reached == IOptimisticInference.JobStatus.None) continue;
            vm.assertEq(uint256(oi.getJob(jobId).status), uint256(reached), "a final job changed status");
        }
    }

    /// @notice The handler's actions do succeed (the invariants are not checked on reverts only):
    /// open, a wrong answer, its fraud proof, an honest answer, a reveal, finalize, withdraw; a
    /// second finalize reverts with the contract's error.
    function test_handlerActionsSucceed() external {
        handler.openJob(0, 1 ether, 0x0102);
        handler.submitResult(1, 1, false, 0x7f);
        handler.proveNeuronFraud(2, 1);
        vm.assertEq(uint256(oi.getJob(1).status), uint256(IOptimisticInference.JobStatus.Open), "re-opened");
        handler.submitResult(1, 1, true, 0x00);
        handler.requestReveal(3, 1);
        handler.revealTrace(1);
        handler.advance(11);
        handler.advance(11); // 24 blocks: past the extended window
        handler.finalize(0, 1, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptimisticInference.OptimisticJobNotInStatus.selector,
                1,
                IOptimisticInference.JobStatus.Finalized,
                IOptimisticInference.JobStatus.Answered
            )
        );
        handler.finalize(0, 1, false);
        handler.withdraw(1);
        vm.assertEq(handler.feePayouts(1), 1, "one payout");
        vm.assertTrue(handler.ethOut() > 0, "the prover withdrew");
        vm.assertEq(handler.ethIn() - handler.ethOut(), address(oi).balance, "ETH conserved");
    }
}
