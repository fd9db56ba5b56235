// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GraphEncoding} from "../src/GraphEncoding.sol";

/// @title GraphHarness
/// @notice TEST ONLY: exposes GraphEncoding as external functions so that Python can check it
/// against vcp_toolkit.commit.graph_encoding and the shared vectors (tests/chain/test_graph_mirror.py).
contract GraphHarness {
    /// @notice GraphEncoding.leafHash.
    function leafHash(bytes calldata payload) external pure returns (bytes32) {
        return GraphEncoding.leafHash(payload);
    }

    /// @notice GraphEncoding.tileLeaf.
    function tileLeaf(uint256 node, uint256 index, bytes calldata values) external pure returns (bytes32) {
        return GraphEncoding.tileLeaf(node, index, values);
    }

    /// @notice GraphEncoding.tensorLeaf.
    function tensorLeaf(uint256 node, uint256 c, uint256 h, uint256 w, bytes32 root) external pure returns (bytes32) {
        return GraphEncoding.tensorLeaf(node, c, h, w, root);
    }

    /// @notice GraphEncoding.shape.
    function shape(uint256 c, uint256 h, uint256 w) external pure returns (GraphEncoding.Shape memory) {
        return GraphEncoding.shape(c, h, w);
    }

    /// @notice GraphEncoding.locate of cell (c, h, w) in a (C, H, W) tensor.
    function locate(uint256[3] calldata dims, uint256 c, uint256 h, uint256 w)
        external
        pure
        returns (uint256 tile, uint256 offset)
    {
        return GraphEncoding.locate(GraphEncoding.shape(dims[0], dims[1], dims[2]), c, h, w);
    }

    /// @notice GraphEncoding.readHeader.
    function readHeader(bytes calldata leaf)
        external
        pure
        returns (bool ok, uint256 nodes, GraphEncoding.Shape memory input, uint256 leaves, uint256 traceBytes)
    {
        return GraphEncoding.readHeader(leaf);
    }

    /// @notice GraphEncoding.readNode.
    function readNode(bytes calldata leaf) external pure returns (bool ok, GraphEncoding.Node memory n) {
        return GraphEncoding.readNode(leaf);
    }

    /// @notice GraphEncoding.readChannel.
    function readChannel(bytes calldata leaf) external pure returns (bool ok, GraphEncoding.Channel memory k) {
        return GraphEncoding.readChannel(leaf);
    }
}
