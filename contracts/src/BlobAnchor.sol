// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IBlobAnchor} from "./IBlobAnchor.sol";
import {BlobLayout} from "./BlobLayout.sol";

/// @title BlobAnchor
/// @notice Blob (EIP-4844) data availability: binds each item's keccak256 to the versioned hashes
/// of the blobs carrying it. No state, no owner. Compiled for Cancun (BLOBHASH), unlike the other
/// contracts (contracts/evm.json): it runs only on chains with blobs.
contract BlobAnchor is IBlobAnchor {
    /// @inheritdoc IBlobAnchor
    function publish(Item[] calldata items) external {
        if (items.length == 0) revert BlobAnchorNothingToPublish(0);
        uint256 start = 0;
        for (uint256 i = 0; i < items.length; ++i) {
            uint256 size = items[i].size;
            if (size == 0) revert BlobAnchorNothingToPublish(i);
            (uint256 firstBlob, uint256 lastBlob, uint256 offset, uint256 next) = BlobLayout.place(start, size);
            // Blobs are numbered from 0 without gaps, so the last one present means all are.
            if (blobhash(lastBlob) == bytes32(0)) revert BlobAnchorBlobMissing(lastBlob + 1, _carried());
            bytes32[] memory hashes = new bytes32[](lastBlob - firstBlob + 1);
            for (uint256 b = firstBlob; b <= lastBlob; ++b) {
                hashes[b - firstBlob] = blobhash(b);
            }
            emit BlobPublished(items[i].digest, msg.sender, i, hashes, offset, size);
            start = next;
        }
    }

    /// @dev The number of blobs the transaction carries (only counted to report a refusal).
    function _carried() private view returns (uint256 n) {
        while (blobhash(n) != bytes32(0)) ++n;
    }
}
