// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "../src/IOptimisticInference.sol";

/// @notice Test-only: a requester/prover contract that either refuses ETH or re-enters
/// `withdraw` (and every other payout path it can reach) when paid.
contract PayoutAttacker {
    enum Mode {
        Accept,
        Reject,
        Reenter
    }

    IOptimisticInference public immutable target;
    Mode public mode;
    uint256 public reentries;
    bool public reentrySucceeded;

    constructor(IOptimisticInference target_) {
        target = target_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function openJob(bytes32 modelRoot, bytes32 inputCommitment) external payable returns (uint256) {
        return target.openJob{value: msg.value}(modelRoot, inputCommitment);
    }

    function cancelJob(uint256 jobId) external {
        target.cancelJob(jobId);
    }

    function submitResult(uint256 jobId, bytes32 outputCommitment, bytes32 traceRoot) external payable {
        target.submitResult{value: msg.value}(jobId, outputCommitment, traceRoot);
    }

    function withdraw() external {
        target.withdraw();
    }

    receive() external payable {
        if (mode == Mode.Reject) revert("no thanks");
        if (mode == Mode.Reenter && reentries < 3) {
            reentries += 1;
            try target.withdraw() {
                reentrySucceeded = true;
            } catch {}
        }
    }
}
