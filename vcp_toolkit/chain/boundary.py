"""Where foreign exceptions (web3, eth-tester, requests, eth-abi) become vcp's own."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import requests
from web3.exceptions import TimeExhausted, Web3Exception

from vcp_toolkit.chain.reverts import decode_revert, revert_data_from
from vcp_toolkit.errors import ChainError, ContractReverted


@contextmanager
def chain_errors(action: str) -> Iterator[None]:
    """Convert web3 / node / eth-tester exceptions into vcp's, at the boundary."""
    try:
        yield
    except ContractReverted:
        raise
    except ChainError:
        raise
    except (requests.ConnectionError, ConnectionRefusedError) as exc:
        raise ChainError(f"{action}: the node is unreachable ({type(exc).__name__})") from exc
    except (requests.Timeout, TimeExhausted) as exc:
        raise ChainError(f"{action}: the node timed out") from exc
    except Exception as exc:  # web3, eth-tester and eth-abi each raise their own roots
        data = revert_data_from(exc)
        if data is not None:
            raise decode_revert(data) from exc
        if isinstance(exc, (Web3Exception, ValueError, KeyError, TypeError)) or type(exc).__module__.startswith("eth"):
            raise ChainError(f"{action}: {_node_message(exc)}") from exc
        raise


def _node_message(exc: BaseException) -> str:
    """The node's own sentence, without its JSON envelope or stack trace."""
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict) and "message" in response["error"]:
        return str(response["error"]["message"])
    first = exc.args[0] if exc.args else exc
    if isinstance(first, dict) and "message" in first:
        return str(first["message"])
    return str(first).splitlines()[0] if str(first) else type(exc).__name__
