"""Options several ``vcp`` commands share, and the parser classes behind every command's help."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcp_toolkit.errors import UsageError

DEFAULT_JOURNAL = Path(".vcp/journal.sqlite")
DEFAULT_DEPLOYMENTS = Path("deployments.json")
VERIFY_EXIT_CODES = ("exit status: 0 valid; 1 invalid (a check failed, or the file is malformed or refused); "
                     "2 usage error; 3 could not check (a file unreadable, the node unreachable, EZKL missing)")


class Parser(argparse.ArgumentParser):
    """Usage errors are one line naming the fix, not argparse's usage block."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class ShowDefaults(argparse.HelpFormatter):
    """Shows an option's default when it has a real one (not None, False or an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "%(default)" in text:
            return text
        return text + " (default: %(default)s)"


class Commands(argparse._SubParsersAction):
    """Every command's one-line help is also its description, and its options show their defaults."""

    def add_parser(self, name: str, **kwargs):
        text = kwargs.get("help", "")
        kwargs.setdefault("description", text[:1].upper() + text[1:] + ".")
        kwargs.setdefault("formatter_class", ShowDefaults)
        parser = super().add_parser(name, **kwargs)
        add_verbose_arg(parser, argparse.SUPPRESS)  # `vcp deploy -v` as well as `vcp -v deploy`
        return parser


VERBOSE_HELP = "show what third-party tools print (EZKL's fidelity tables and progress); hidden otherwise"


def add_verbose_arg(p: argparse.ArgumentParser, default=False) -> None:
    p.add_argument("-v", "--verbose", action="store_true", default=default, help=VERBOSE_HELP)


# ---------------------------------------------------------------- shared options


def add_chain_args(p: argparse.ArgumentParser, default: str | None = "embedded") -> None:
    p.add_argument("--chain", choices=("embedded", "anvil", "ganache"), default=default,
                   help="embedded: in-process py-evm; anvil/ganache: started from the project's npm "
                        "install on 127.0.0.1 at a free port and stopped afterwards")
    p.add_argument("--rpc-url", help="use an already-running node instead (overrides --chain)")
    add_hardfork_arg(p)


HARDFORK_HELP = ("fee schedule of the chain vcp starts: shanghai, cancun, prague or osaka (default: the newest "
                 "the chain runs: embedded prague, anvil osaka, ganache shanghai)")


def add_hardfork_arg(p: argparse.ArgumentParser) -> None:
    from vcp_toolkit.chain.hardfork import SCHEDULES

    p.add_argument("--hardfork", choices=SCHEDULES, metavar="NAME", help=HARDFORK_HELP)


def add_key_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keystore", type=Path,
                   help="encrypted keystore file (password from $VCP_KEYSTORE_PASSWORD or a prompt); "
                        "without it the key comes from $VCP_PRIVATE_KEY")


def add_journal_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--journal", type=Path, default=DEFAULT_JOURNAL,
                   help="SQLite journal of everything produced and sent")


def add_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="an ONNX file (.onnx), a vcp quantized model (.q.npz), a built-in CNN (lenet, "
                                   "rescnn) or an operator-graph file; default: the built-in digits model")
    p.add_argument("--calibration", type=Path,
                   help="for .onnx models: sample inputs (.npy/.npz) that set the quantization scales "
                        "(default: 512 standard-normal samples, seed 0)")


NODE_URL_HELP = "JSON-RPC URL of the node (e.g. http://127.0.0.1:8545)"


def add_node_args(p: argparse.ArgumentParser, rpc_help: str = NODE_URL_HELP, required: bool = True) -> None:
    p.add_argument("--rpc-url", required=required, help=rpc_help)
    add_deployments_arg(p)


def add_deployments_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--deployments", type=Path, default=DEFAULT_DEPLOYMENTS,
                   help="where `vcp deploy` recorded the contract addresses for each chainId")


def add_json_arg(p: argparse.ArgumentParser, what: str = "the result") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as one JSON object instead of text")
