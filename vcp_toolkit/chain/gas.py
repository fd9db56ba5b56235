"""Gas arithmetic for the floor vcp compares against (Shanghai schedule, EIP-2028/2929)."""

from __future__ import annotations

TX_BASE = 21_000
CALLDATA_ZERO_BYTE = 4
CALLDATA_NONZERO_BYTE = 16
ECRECOVER = 3_000
NEW_STORAGE_SLOT = 22_100  # 20,000 SSTORE zero -> non-zero + 2,100 cold access


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return zeros * CALLDATA_ZERO_BYTE + (len(data) - zeros) * CALLDATA_NONZERO_BYTE


def submit_floor(calldata: bytes) -> int:
    """What any contract recording one verified signed claim must pay for this exact calldata."""
    return TX_BASE + calldata_gas(calldata) + ECRECOVER + NEW_STORAGE_SLOT


def intrinsic_gas(calldata: bytes) -> int:
    return TX_BASE + calldata_gas(calldata)


GAS_MARGIN_PERCENT = 20


def with_margin(estimate: int) -> int:
    """The gas limit vcp signs for a node's estimate: the one margin policy of every sender
    (vcp.chain.tx.Sender). The limit is not what a transaction pays (that is gasUsed); the margin
    covers state that moves between the estimate and the block (a counter, a warm slot gone cold)."""
    return estimate + estimate * GAS_MARGIN_PERCENT // 100
