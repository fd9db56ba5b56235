// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedPointNeuron} from "../src/FixedPointNeuron.sol";
import {NeuronHarness} from "./NeuronHarness.sol";
import {Reference} from "./utils/Reference.sol";
import {VcpTest} from "./utils/VcpTest.sol";

/// @notice FixedPointNeuron at and around every documented bound (docs/arithmetic.md): widths
/// 1..4096, int32 bias, multiplier in [1, 2^31), shift in [1, 62], saturation at -128/0/127,
/// half-up rounding; against the shared vectors (tests/vectors/arithmetic.json) and against
/// `Reference`, a checked, byte-at-a-time Solidity version of the rule.
contract FixedPointNeuronTest is VcpTest {
    /// @dev The largest |acc| the bounds allow: 4096 * 128 * 128 from the dot product, plus 2^31 of bias.
    int256 internal constant ACC_MAX = 4096 * 128 * 128 + 2 ** 31;

    NeuronHarness internal harness;

    function setUp() external {
        harness = new NeuronHarness();
    }

    function test_sharedArithmeticVectors() external view {
        string memory json = vm.readFile("tests/vectors/arithmetic.json");
        uint256 k = 0;
        for (; vm.keyExistsJson(json, _at(k)); ++k) {
            string memory v = _at(k);
            bytes memory w = _int8Bytes(vm.parseJsonIntArray(json, string.concat(v, ".weights")));
            bytes memory x = _int8Bytes(vm.parseJsonIntArray(json, string.concat(v, ".inputs")));
            int256 bias = vm.parseJsonInt(json, string.concat(v, ".bias"));
            uint256 m = vm.parseJsonUint(json, string.concat(v, ".multiplier"));
            uint256 s = vm.parseJsonUint(json, string.concat(v, ".shift"));
            uint8 act = uint8(vm.parseJsonUint(json, string.concat(v, ".activation")));
            int256 expected = vm.parseJsonInt(json, string.concat(v, ".output"));
            vm.assertEq(int256(harness.output(w, x, bias, m, s, act)), expected, string.concat("vector ", v));
            vm.assertEq(int256(Reference.requantize(Reference.accumulate(w, x, bias), m, s, act)), expected, "reference");
        }
        vm.assertTrue(k > 0, "no arithmetic vectors read");
    }

    /// @notice requantize equals the reference on the whole documented accumulator range.
    function testFuzz_requantizeMatchesReference(int256 acc, uint256 m, uint256 s, bool relu) external view {
        acc = _boundInt(acc, -ACC_MAX, ACC_MAX);
        m = _bound(m, 1, FixedPointNeuron.MULTIPLIER_MAX);
        s = _bound(s, FixedPointNeuron.SHIFT_MIN, FixedPointNeuron.SHIFT_MAX);
        uint8 act = relu ? 1 : 0;
        int8 y = harness.requantize(acc, m, s, act);
        vm.assertEq(int256(y), int256(Reference.requantize(acc, m, s, act)), "requantize vs reference");
        vm.assertGe(int256(y), relu ? int256(0) : int256(-128), "below the activation's floor");
    }

    /// @notice Half up: acc * M exactly halfway between two steps rounds towards +infinity.
    function testFuzz_roundsHalfUp(int256 q, uint256 s) external view {
        s = _bound(s, 1, 20);
        q = _boundInt(q, -128, 126);
        // acc * 1 = (q + 1/2) * 2^s: exactly between q and q + 1.
        int256 acc = q * int256(2 ** s) + int256(2 ** (s - 1));
        vm.assertEq(int256(harness.requantize(acc, 1, s, 0)), q + 1, "halfway must round up");
        vm.assertEq(int256(harness.requantize(acc - 1, 1, s, 0)), q, "just below halfway rounds down");
    }

    /// @notice For fixed M and s, the output never decreases as the accumulator grows.
    function testFuzz_requantizeMonotone(int256 a, int256 b, uint256 m, uint256 s, bool relu) external view {
        a = _boundInt(a, -ACC_MAX, ACC_MAX);
        b = _boundInt(b, -ACC_MAX, ACC_MAX);
        (a, b) = a <= b ? (a, b) : (b, a);
        m = _bound(m, 1, FixedPointNeuron.MULTIPLIER_MAX);
        s = _bound(s, 1, 62);
        uint8 act = relu ? 1 : 0;
        vm.assertLe(int256(harness.requantize(a, m, s, act)), int256(harness.requantize(b, m, s, act)), "monotone");
    }

    /// @notice A whole neuron of random width, weights, inputs and parameters equals the reference.
    function testFuzz_outputMatchesReference(bytes32 seed, uint256 width, int32 bias, uint256 m, uint256 s, bool relu)
        external
        view
    {
        width = _bound(width, 1, 300);
        bytes memory w = _bytes(keccak256(abi.encode(seed, "w")), width);
        bytes memory x = _bytes(keccak256(abi.encode(seed, "x")), width);
        _checkNeuron(w, x, bias, _bound(m, 1, FixedPointNeuron.MULTIPLIER_MAX), _bound(s, 1, 62), relu ? 1 : 0);
    }

    /// @notice Constant vectors up to the width limit reach the extreme accumulators (e.g. 4096 *
    /// -128 * -128): the SWAR dot product must still be exact there, and the output saturate.
    function testFuzz_extremeConstantVectors(uint256 width, int8 a, int8 b, int32 bias, uint256 m, uint256 s)
        external
        view
    {
        width = _bound(width, 1, FixedPointNeuron.MAX_WIDTH);
        bytes memory w = new bytes(width);
        bytes memory x = new bytes(width);
        for (uint256 i = 0; i < width; ++i) {
            w[i] = bytes1(uint8(a));
            x[i] = bytes1(uint8(b));
        }
        vm.assertEq(harness.dot(w, x), int256(width) * a * b, "dot of constant vectors");
        _checkNeuron(w, x, bias, _bound(m, 1, FixedPointNeuron.MULTIPLIER_MAX), _bound(s, 1, 62), 0);
    }

    /// @notice The largest accumulator with the largest multiplier and smallest shift saturates at 127,
    /// the most negative at -128 (NONE) or 0 (ReLU).
    function test_saturationAtTheBounds() external view {
        bytes memory minus = new bytes(4096);
        bytes memory plus = new bytes(4096);
        for (uint256 i = 0; i < 4096; ++i) {
            minus[i] = bytes1(uint8(int8(-128)));
            plus[i] = bytes1(uint8(int8(127)));
        }
        uint256 mMax = FixedPointNeuron.MULTIPLIER_MAX;
        vm.assertEq(int256(harness.output(minus, minus, type(int32).max, mMax, 1, 0)), 127, "max acc");
        vm.assertEq(int256(harness.output(minus, plus, type(int32).min, mMax, 1, 0)), -128, "min acc, NONE");
        vm.assertEq(int256(harness.output(minus, plus, type(int32).min, mMax, 1, 1)), 0, "min acc, ReLU");
        vm.assertEq(int256(harness.output(minus, minus, type(int32).max, 1, 62, 0)), 0, "max acc, shift 62");
    }

    function testFuzz_rejectsWidthOutOfRange(uint256 width) external {
        width = _bound(width, FixedPointNeuron.MAX_WIDTH + 1, 2 * FixedPointNeuron.MAX_WIDTH);
        bytes memory v = new bytes(width);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronWidthOutOfRange.selector, width));
        harness.output(v, v, 0, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronWidthOutOfRange.selector, 0));
        harness.output("", "", 0, 1, 1, 0);
    }

    function testFuzz_rejectsWidthMismatch(uint256 a, uint256 b) external {
        a = _bound(a, 0, 64);
        b = _bound(b, 0, 64);
        vm.assume(a != b);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronWidthMismatch.selector, a, b));
        harness.output(new bytes(a), new bytes(b), 0, 1, 1, 0);
    }

    function testFuzz_rejectsBiasOutsideInt32(int256 bias) external {
        vm.assume(bias < type(int32).min || bias > type(int32).max);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronBiasOutOfRange.selector, bias));
        harness.output(hex"01", hex"01", bias, 1, 1, 0);
    }

    function testFuzz_rejectsMultiplierOutOfRange(uint256 m) external {
        m = m % 2 == 0 ? 0 : _bound(m, FixedPointNeuron.MULTIPLIER_MAX + 1, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronMultiplierOutOfRange.selector, m));
        harness.output(hex"01", hex"01", 0, m, 1, 0);
    }

    function testFuzz_rejectsShiftOutOfRange(uint256 s) external {
        s = s % 2 == 0 ? 0 : _bound(s, FixedPointNeuron.SHIFT_MAX + 1, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronShiftOutOfRange.selector, s));
        harness.output(hex"01", hex"01", 0, 1, s, 0);
    }

    function testFuzz_rejectsUnknownActivation(uint8 act) external {
        act = uint8(_bound(act, 2, 255));
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronActivationUnknown.selector, act));
        harness.output(hex"01", hex"01", 0, 1, 1, act);
    }

    function testFuzz_readInt8OutOfRange(bytes calldata values, uint256 index) external {
        index = _bound(index, values.length, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(FixedPointNeuron.NeuronIndexOutOfRange.selector, index, values.length));
        harness.readInt8(values, index);
    }

    function _checkNeuron(bytes memory w, bytes memory x, int256 bias, uint256 m, uint256 s, uint8 act) private view {
        int256 acc = Reference.accumulate(w, x, bias);
        int8 expected = Reference.requantize(acc, m, s, act);
        vm.assertEq(harness.dot(w, x), acc - bias, "dot vs reference");
        vm.assertEq(int256(harness.output(w, x, bias, m, s, act)), int256(expected), "output vs reference");
        vm.assertEq(int256(harness.outputBytewise(w, x, bias, m, s, act)), int256(expected), "bytewise vs reference");
    }

    function _at(uint256 k) private pure returns (string memory) {
        return string.concat("$[", vm.toString(k), "]");
    }
}
