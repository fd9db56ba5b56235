// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TransformerKernels} from "../src/TransformerKernels.sol";

/// @title TransformerHarness
/// @notice TEST ONLY: exposes TransformerKernels as external functions so that Python can hold it to
/// the numpy kernels bit for bit (tests/chain/test_transformer_mirror.py); each `measure*` also returns
/// the gas of the library call alone (one output element, without ABI decoding).
contract TransformerHarness {
    /// @notice TransformerKernels.softmax.
    function softmax(bytes calldata row, uint256 multiplier, uint256 shift, uint256 index)
        external
        pure
        returns (int256)
    {
        return TransformerKernels.softmax(row, multiplier, shift, index);
    }

    /// @notice TransformerKernels.exp2Neg.
    function exp2Neg(uint256 u) external pure returns (uint256) {
        return TransformerKernels.exp2Neg(u);
    }

    /// @notice TransformerKernels.isqrt.
    function isqrt(uint256 a) external pure returns (uint256) {
        return TransformerKernels.isqrt(a);
    }

    /// @notice TransformerKernels.layerNorm.
    function layerNorm(bytes calldata row, TransformerKernels.LayerNormChannel memory p, uint256 index)
        external
        pure
        returns (int256)
    {
        return TransformerKernels.layerNorm(row, p, index);
    }

    /// @notice TransformerKernels.gelu.
    function gelu(bytes calldata row, bytes calldata table, uint256 index) external pure returns (int256) {
        return TransformerKernels.gelu(row, table, index);
    }

    /// @notice TransformerKernels.matmul.
    function matmul(bytes calldata aRow, bytes calldata bColumn, uint256 multiplier, uint256 shift, int256 lo, int256 hi)
        external
        pure
        returns (int256)
    {
        return TransformerKernels.matmul(aRow, bColumn, multiplier, shift, lo, hi);
    }

    /// @notice softmax, and the gas of the library call.
    function measureSoftmax(bytes calldata row, uint256 multiplier, uint256 shift, uint256 index)
        external
        view
        returns (int256 y, uint256 gasUsed)
    {
        uint256 start = gasleft();
        y = TransformerKernels.softmax(row, multiplier, shift, index);
        gasUsed = start - gasleft();
    }

    /// @notice layerNorm, and the gas of the library call.
    function measureLayerNorm(bytes calldata row, TransformerKernels.LayerNormChannel memory p, uint256 index)
        external
        view
        returns (int256 y, uint256 gasUsed)
    {
        uint256 start = gasleft();
        y = TransformerKernels.layerNorm(row, p, index);
        gasUsed = start - gasleft();
    }

    /// @notice gelu, and the gas of the library call.
    function measureGelu(bytes calldata row, bytes calldata table, uint256 index)
        external
        view
        returns (int256 y, uint256 gasUsed)
    {
        uint256 start = gasleft();
        y = TransformerKernels.gelu(row, table, index);
        gasUsed = start - gasleft();
    }

    /// @notice matmul, and the gas of the library call.
    function measureMatmul(
        bytes calldata aRow,
        bytes calldata bColumn,
        uint256 multiplier,
        uint256 shift,
        int256 lo,
        int256 hi
    ) external view returns (int256 y, uint256 gasUsed) {
        uint256 start = gasleft();
        y = TransformerKernels.matmul(aRow, bColumn, multiplier, shift, lo, hi);
        gasUsed = start - gasleft();
    }
}
