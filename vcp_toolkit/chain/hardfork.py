"""The fee schedule (hardfork) a chain runs, and which schedules each chain vcp starts can run.

The contracts are compiled once, for the oldest schedule every chain runs (contracts/evm.json,
``EVM_VERSION``), and run unchanged on every newer one; the one exception, BlobAnchor (BLOBHASH),
is compiled for Cancun and runs only on chains with blobs (evm.json's "exceptions"). What changes between the schedules vcp
supports is what a transaction pays, never what it does:

- Shanghai: the baseline (EIP-2028 calldata, EIP-2929 warm/cold access, EIP-3860 initcode).
- Cancun: new opcodes and blobs only; no repricing of anything vcp's contracts execute.
- Prague: EIP-7623, a transaction pays at least 21,000 + 10 gas per calldata token
  (tokens = zero bytes + 4 * non-zero bytes) when that exceeds its normal charge.
- Osaka: EIP-7825, no transaction may use more than 2**24 gas; EIP-7883 reprices ModExp
  (precompile 0x05, used by EZKL's verifier); EIP-7951 adds P256VERIFY; EIP-7939 adds CLZ.

py-evm 0.12 (the embedded chain) has no Osaka VM: its newest is Prague, so ``osaka`` is refused
there rather than emulated in part. Ganache 7.9 runs nothing newer than Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass

from vcp_toolkit.contracts import EVM_VERSION
from vcp_toolkit.errors import InvalidInput

SCHEDULES = ("shanghai", "cancun", "prague", "osaka")  # oldest first
OSAKA_TX_GAS_CAP = 2**24  # EIP-7825

SUPPORTED = {
    "embedded": ("shanghai", "cancun", "prague"),
    "anvil": SCHEDULES,
    "ganache": ("shanghai",),
}
_WHY_NOT = {
    "embedded": "py-evm 0.12 has no Osaka VM; its newest is Prague",
    "ganache": "Ganache 7.9 runs nothing newer than Shanghai",
}


@dataclass(frozen=True)
class Hardfork:
    """One schedule by name, checked: shanghai, cancun, prague or osaka."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise InvalidInput(f"unknown hardfork {self.name!r}: choose one of {', '.join(SCHEDULES)}")

    def __str__(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        return SCHEDULES.index(self.name)

    def at_least(self, name: str) -> bool:
        return self.rank >= Hardfork(name).rank

    @property
    def calldata_floor(self) -> bool:
        """Whether EIP-7623's calldata floor applies (Prague and later)."""
        return self.at_least("prague")

    @property
    def tx_gas_cap(self) -> int | None:
        """The most gas one transaction may use (EIP-7825, Osaka and later), or None."""
        return OSAKA_TX_GAS_CAP if self.at_least("osaka") else None


COMPILED_FOR = Hardfork(EVM_VERSION)  # every chain must run at least this schedule


def default_hardfork(kind: str) -> Hardfork:
    """The newest schedule chain ``kind`` runs."""
    return Hardfork(_supported(kind)[-1])


def hardfork_for(kind: str, name: str | Hardfork | None) -> Hardfork:
    """The schedule chain ``kind`` will run: ``name``, or its newest when None; one that the chain
    cannot run raises InvalidInput naming the chain that can."""
    if name is None:
        return default_hardfork(kind)
    fork = name if isinstance(name, Hardfork) else Hardfork(str(name).strip().lower())
    supported = _supported(kind)
    if fork.name not in supported:
        why = _WHY_NOT.get(kind, f"{kind} runs {', '.join(supported)}")
        raise InvalidInput(f"hardfork {fork} is not available on the {kind} chain ({why}): use --chain anvil, "
                           f"or --hardfork {supported[-1]}")
    return fork


def _supported(kind: str) -> tuple[str, ...]:
    try:
        return SUPPORTED[kind]
    except KeyError:
        raise InvalidInput(f"vcp starts no chain {kind!r}: choose one of {', '.join(SUPPORTED)}") from None
