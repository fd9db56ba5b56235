// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title GraphEncoding
/// @notice The operator-graph leaves of docs/encoding.md ("Operator graphs"); mirrors
/// `vcp_toolkit.commit.graph_encoding` byte for byte (shared vectors: tests/vectors/graph.json).
/// @dev Leaves are read straight from calldata; every reader checks the leaf's kind byte and length.
library GraphEncoding {
    bytes1 internal constant KIND_GRAPH = "G";
    bytes1 internal constant KIND_NODE = "O";
    bytes1 internal constant KIND_CHANNEL = "K";
    bytes1 internal constant KIND_TILE = "V";
    bytes1 internal constant KIND_TENSOR = "T";

    /// @dev The tile side T is the largest of 8, 4, 2, 1 with T * T * C <= TILE_BYTES (else 1).
    uint256 internal constant TILE_BYTES = 128;
    uint256 internal constant HEADER_BYTES = 55;
    uint256 internal constant NODE_BYTES = 62;
    uint256 internal constant CHANNEL_PREFIX_BYTES = 16;

    uint256 internal constant OP_CONV = 1;
    uint256 internal constant OP_DENSE = 2;
    uint256 internal constant OP_MAXPOOL = 3;
    uint256 internal constant OP_AVGPOOL = 4;
    uint256 internal constant OP_GAP = 5;
    uint256 internal constant OP_ADD = 6;
    uint256 internal constant OP_FLATTEN = 7;
    uint256 internal constant OP_CLAMP = 8;
    // Transformer kinds (TransformerOperators re-executes them; a Reshape is OP_FLATTEN).
    uint256 internal constant OP_TOKEN_DENSE = 9;
    uint256 internal constant OP_MATMUL = 10;
    uint256 internal constant OP_SOFTMAX = 11;
    uint256 internal constant OP_LAYERNORM = 12;
    uint256 internal constant OP_GELU = 13;
    uint256 internal constant OP_TRANSPOSE = 14;
    uint256 internal constant OP_TAKE = 15;
    uint256 internal constant OP_PREPEND = 16;
    uint256 internal constant OP_CONST = 17;

    /// @notice A tensor's per-sample shape and its tile geometry.
    struct Shape {
        uint256 c;
        uint256 h;
        uint256 w;
        uint256 th; // tile height: min(T, h)
        uint256 tw; // tile width: min(T, w)
        uint256 cols; // tiles per row
        uint256 tiles; // tile count
    }

    /// @notice The fields of a node leaf.
    struct Node {
        uint256 node;
        uint256 kind;
        uint256 inputA;
        uint256 inputB;
        Shape input;
        Shape output;
        uint256 kh;
        uint256 kw;
        uint256 sh;
        uint256 sw;
        uint256 padTop;
        uint256 padLeft;
        uint256 groups;
        int256 lo;
        int256 hi;
        bool countIncludePad;
        uint256 multiplierA;
        uint256 multiplierB;
        uint256 shift;
        uint256 leafIndex;
        uint256 channels;
    }

    /// @notice The fields of a channel leaf (a conv filter or a dense row).
    struct Channel {
        uint256 node;
        uint256 channel;
        int256 bias;
        uint256 multiplier;
        uint256 shift;
    }

    /// @notice keccak256(0x00 || payload) for a payload in calldata.
    function leafHash(bytes calldata payload) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x00)
            calldatacopy(add(p, 1), payload.offset, payload.length)
            hash := keccak256(p, add(payload.length, 1))
        }
    }

    /// @notice The leaf of tile `index` of tensor `node`: keccak256(0x00 || "V" || uint16 node || uint32 index || values).
    function tileLeaf(uint256 node, uint256 index, bytes calldata values) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, or(shl(240, 0x56), or(shl(224, and(node, 0xffff)), shl(192, and(index, 0xffffffff)))))
            calldatacopy(add(p, 8), values.offset, values.length)
            hash := keccak256(p, add(values.length, 8))
        }
    }

    /// @notice The tensor leaf: keccak256(0x00 || "T" || uint16 node || uint32 C, H, W || root).
    function tensorLeaf(uint256 node, uint256 c, uint256 h, uint256 w, bytes32 root) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), KIND_TENSOR, uint16(node), uint32(c), uint32(h), uint32(w), root));
    }

    /// @notice The tile geometry of a (C, H, W) tensor; all-zero when a dimension is 0.
    function shape(uint256 c, uint256 h, uint256 w) internal pure returns (Shape memory s) {
        s.c = c;
        s.h = h;
        s.w = w;
        if (c == 0 || h == 0 || w == 0) return s;
        uint256 side = 8;
        while (side > 1 && side * side * c > TILE_BYTES) side >>= 1;
        s.th = h < side ? h : side;
        s.tw = w < side ? w : side;
        s.cols = (w + s.tw - 1) / s.tw;
        s.tiles = ((h + s.th - 1) / s.th) * s.cols;
    }

    /// @notice Tile index and byte offset of cell (c, h, w).
    function locate(Shape memory s, uint256 c, uint256 h, uint256 w) internal pure returns (uint256 tile, uint256 offset) {
        unchecked {
            tile = (h / s.th) * s.cols + w / s.tw;
            offset = ((h % s.th) * s.tw + w % s.tw) * s.c + c;
        }
    }

    function _u(bytes calldata b, uint256 start, uint256 width) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, width)), calldataload(add(b.offset, start)))
        }
    }

    function _i8(bytes calldata b, uint256 start) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(0, byte(0, calldataload(add(b.offset, start))))
        }
    }

    /// @notice Reads a graph header leaf; `ok` is false for a wrong kind or length.
    function readHeader(bytes calldata leaf)
        internal
        pure
        returns (bool ok, uint256 nodes, Shape memory input, uint256 leaves, uint256 traceBytes)
    {
        if (leaf.length != HEADER_BYTES || leaf[0] != KIND_GRAPH) return (false, 0, input, 0, 0);
        nodes = _u(leaf, 1, 2);
        input = shape(_u(leaf, 3, 4), _u(leaf, 7, 4), _u(leaf, 11, 4));
        leaves = _u(leaf, 15, 4);
        traceBytes = _u(leaf, 19, 4);
        ok = input.tiles != 0 && nodes != 0;
    }

    /// @notice Reads a node leaf; `ok` is false for a wrong kind or length or an empty shape.
    function readNode(bytes calldata leaf) internal pure returns (bool ok, Node memory n) {
        if (leaf.length != NODE_BYTES || leaf[0] != KIND_NODE) return (false, n);
        n.node = _u(leaf, 1, 2);
        n.kind = _u(leaf, 3, 1);
        n.inputA = _u(leaf, 4, 2);
        n.inputB = _u(leaf, 6, 2);
        n.input = shape(_u(leaf, 8, 4), _u(leaf, 12, 4), _u(leaf, 16, 4));
        n.output = shape(_u(leaf, 20, 4), _u(leaf, 24, 4), _u(leaf, 28, 4));
        n.kh = _u(leaf, 32, 1);
        n.kw = _u(leaf, 33, 1);
        n.sh = _u(leaf, 34, 1);
        n.sw = _u(leaf, 35, 1);
        n.padTop = _u(leaf, 36, 1);
        n.padLeft = _u(leaf, 37, 1);
        n.groups = _u(leaf, 40, 2);
        n.lo = _i8(leaf, 42);
        n.hi = _i8(leaf, 43);
        n.countIncludePad = _u(leaf, 44, 1) != 0;
        n.multiplierA = _u(leaf, 45, 4);
        n.multiplierB = _u(leaf, 49, 4);
        n.shift = _u(leaf, 53, 1);
        n.leafIndex = _u(leaf, 54, 4);
        n.channels = _u(leaf, 58, 4);
        ok = n.input.tiles != 0 && n.output.tiles != 0 && n.lo <= n.hi;
    }

    /// @notice Reads a channel leaf's fixed fields; its weights are `leaf[CHANNEL_PREFIX_BYTES:]`.
    function readChannel(bytes calldata leaf) internal pure returns (bool ok, Channel memory k) {
        if (leaf.length < CHANNEL_PREFIX_BYTES || leaf[0] != KIND_CHANNEL) return (false, k);
        k.node = _u(leaf, 1, 2);
        k.channel = _u(leaf, 3, 4);
        k.bias = int256(int32(uint32(_u(leaf, 7, 4))));
        k.multiplier = _u(leaf, 11, 4);
        k.shift = _u(leaf, 15, 1);
        ok = true;
    }
}
