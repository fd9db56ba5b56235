// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "../src/IOptimisticInference.sol";
import {OptimisticInference} from "../src/OptimisticInference.sol";
import {NeuronHarness} from "./NeuronHarness.sol";
import {OptimisticFixture} from "./utils/OptimisticFixture.sol";
import {VcpTest} from "./utils/VcpTest.sol";

/// @notice The gas snapshot's tests (contracts/.gas-snapshot, `make gas-snapshot`): each test
/// makes one call of one function from a state its contract's setUp prepared (setUp's gas is not
/// counted), and checks the call did what it should. tests/contracts/test_forge.py fails when any
/// figure moves without the snapshot being renewed.
abstract contract GasBase is VcpTest {
    OptimisticInference internal oi;
    address internal constant REQUESTER = address(0xA11CE);
    address internal constant PROVER = address(0xB0B);
    address internal constant CHALLENGER = address(0xCA41);
    bytes internal constant INPUT = hex"05f0";
    bytes32 internal constant SALT = keccak256("vcp forge salt");

    function _deploy() internal {
        oi = OptimisticFixture.deploy(address(this));
        OptimisticFixture.register(oi);
        vm.deal(REQUESTER, 100 ether);
        vm.deal(PROVER, 100 ether);
        vm.deal(CHALLENGER, 100 ether);
    }

    function _open() internal returns (uint256 jobId) {
        vm.prank(REQUESTER);
        jobId = oi.openJob{value: 1 ether}(OptimisticFixture.modelRoot(), _commit(0x02, INPUT));
    }

    function _answer(uint256 jobId, bytes memory output) internal {
        vm.prank(PROVER);
        oi.submitResult{value: OptimisticFixture.PROVER_BOND}(
            jobId, _commit(0x03, output), OptimisticFixture.traceRoot(INPUT, output)
        );
    }

    function _wrong() internal pure returns (bytes memory out) {
        out = OptimisticFixture.correctOutput(INPUT);
        out[0] = bytes1(uint8(out[0]) ^ 1);
    }

    function _commit(bytes1 domain, bytes memory values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(domain, SALT, uint32(values.length), values));
    }

    function _status(uint256 jobId) internal view returns (uint256) {
        return uint256(oi.getJob(jobId).status);
    }
}

/// @notice From a deployed contract with the model registered.
contract GasOptimisticOpenTest is GasBase {
    OptimisticInference internal fresh;

    function setUp() external {
        _deploy();
        fresh = OptimisticFixture.deploy(address(this));
        _open();
    }

    function test_deploy() external {
        vm.assertTrue(address(OptimisticFixture.deploy(address(this))).code.length > 0, "deployed");
    }

    function test_registerModel() external {
        OptimisticFixture.register(fresh);
        vm.assertEq(uint256(fresh.modelLayers(OptimisticFixture.modelRoot())), 1, "registered");
    }

    function test_openJob() external {
        vm.assertEq(_open(), 2, "second job");
    }

    function test_submitResult() external {
        _answer(1, OptimisticFixture.correctOutput(INPUT));
        vm.assertEq(_status(1), uint256(IOptimisticInference.JobStatus.Answered), "answered");
    }

    function test_cancelJob() external {
        vm.prank(REQUESTER);
        oi.cancelJob(1);
        vm.assertEq(oi.credit(REQUESTER), 1 ether, "fee credited back");
    }
}

/// @notice From job 1 answered wrongly and job 2 answered correctly.
contract GasOptimisticAnsweredTest is GasBase {
    function setUp() external {
        _deploy();
        _answer(_open(), _wrong());
        _answer(_open(), OptimisticFixture.correctOutput(INPUT));
    }

    function test_proveNeuronFraud_fraud() external {
        vm.prank(CHALLENGER);
        bool fraud = oi.proveNeuronFraud{value: OptimisticFixture.CHALLENGE_BOND}(
            1, OptimisticFixture.evidence(INPUT, _wrong())
        );
        vm.assertTrue(fraud, "fraud proven");
        vm.assertEq(_status(1), uint256(IOptimisticInference.JobStatus.Open), "re-opened");
    }

    function test_proveNeuronFraud_noFraud() external {
        vm.prank(CHALLENGER);
        bool fraud = oi.proveNeuronFraud{value: OptimisticFixture.CHALLENGE_BOND}(
            2, OptimisticFixture.evidence(INPUT, OptimisticFixture.correctOutput(INPUT))
        );
        vm.assertFalse(fraud, "no fraud");
        vm.assertEq(oi.credit(PROVER), OptimisticFixture.CHALLENGE_BOND, "bond to the prover");
    }

    function test_requestReveal() external {
        vm.prank(CHALLENGER);
        oi.requestReveal{value: OptimisticFixture.REVEAL_BOND}(2);
        vm.assertTrue(oi.getJob(2).revealDeadline != 0, "reveal pending");
    }

    function test_finalize() external {
        vm.roll(block.number + OptimisticFixture.CHALLENGE_WINDOW + 1);
        oi.finalize(2);
        vm.assertEq(oi.credit(PROVER), 1 ether + OptimisticFixture.PROVER_BOND, "fee + bond credited");
    }
}

/// @notice From job 1 answered correctly with a reveal requested.
contract GasOptimisticRevealTest is GasBase {
    function setUp() external {
        _deploy();
        _answer(_open(), OptimisticFixture.correctOutput(INPUT));
        vm.prank(CHALLENGER);
        oi.requestReveal{value: OptimisticFixture.REVEAL_BOND}(1);
    }

    function test_revealTrace() external {
        vm.prank(PROVER);
        oi.revealTrace(1, OptimisticFixture.trace(INPUT, OptimisticFixture.correctOutput(INPUT)), SALT, SALT);
        vm.assertTrue(oi.getJob(1).revealed, "revealed");
    }

    function test_slashWithheld() external {
        vm.roll(block.number + OptimisticFixture.REVEAL_WINDOW + 1);
        oi.slashWithheld(1);
        vm.assertEq(_status(1), uint256(IOptimisticInference.JobStatus.Open), "re-opened");
    }
}

/// @notice From job 1 finalized: the prover's credit waits.
contract GasOptimisticWithdrawTest is GasBase {
    function setUp() external {
        _deploy();
        _answer(_open(), OptimisticFixture.correctOutput(INPUT));
        vm.roll(block.number + OptimisticFixture.CHALLENGE_WINDOW + 1);
        oi.finalize(1);
    }

    function test_withdraw() external {
        vm.prank(PROVER);
        oi.withdraw();
        vm.assertEq(address(oi).balance, 0, "everything paid out");
    }
}

/// @notice One neuron at the width of the demo model's input (64) and at the limit (4096).
contract GasNeuronTest is VcpTest {
    NeuronHarness internal harness;
    bytes internal narrow;
    bytes internal wide;

    function setUp() external {
        harness = new NeuronHarness();
        narrow = _bytes(keccak256("narrow"), 64);
        wide = _bytes(keccak256("wide"), 4096);
    }

    function test_neuronWidth64() external view {
        harness.output(narrow, narrow, 1000, 2 ** 30, 40, 1);
    }

    function test_neuronWidth4096() external view {
        harness.output(wide, wide, 1000, 2 ** 30, 40, 1);
    }
}
