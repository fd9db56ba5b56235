"""Signing keys: an encrypted keystore (eth-account's standard v3 format) or an environment variable.

A key is held in a ``SigningKey`` whose repr never shows it; vcp never prints or logs a key.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

from eth_account import Account

from vcp_toolkit.errors import FileUnreadable, InvalidAttestationFile, InvalidInput, KeyUnavailable
from vcp_toolkit.attest.files import loads_strict, printable, read_bounded, write_atomic

KEY_ENV = "VCP_PRIVATE_KEY"
PASSWORD_ENV = "VCP_KEYSTORE_PASSWORD"


class SigningKey:
    """A secp256k1 private key that will not show itself in reprs, logs or tracebacks."""

    __slots__ = ("_key", "address")

    def __init__(self, key: bytes) -> None:
        self._key = bytes(key)
        self.address = Account.from_key(self._key).address

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(bytes(Account.create().key))

    def reveal(self) -> bytes:
        """The raw key, for handing to eth-account only."""
        return self._key

    def __repr__(self) -> str:
        return f"SigningKey(address={self.address}, key=<hidden>)"

    __str__ = __repr__


def _password(prompt: str) -> str:
    if os.environ.get(PASSWORD_ENV) is not None:
        return os.environ[PASSWORD_ENV]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise KeyUnavailable(f"keystore password needed: set {PASSWORD_ENV} or run in a terminal")


KEYSTORE_FIX = "pass the file `vcp keygen --out FILE` wrote (eth-account's v3 keystore)"
MAX_KEYSTORE_BYTES = 64 * 1024  # a v3 keystore is under 1 kB


def _read_keystore(path: Path) -> dict:
    """The keystore's JSON object, read bounded (a FIFO, device or folder is refused, never read).
    Its text is never echoed: a damaged keystore may still hold key material."""
    shown = printable(path)
    try:
        raw = read_bounded(path, "keystore", MAX_KEYSTORE_BYTES)
    except FileUnreadable as exc:
        raise KeyUnavailable(f"{exc}: check the --keystore path") from None
    except InvalidAttestationFile as exc:  # a folder, a FIFO, a device, or too large
        reason = str(exc).removesuffix(": name a regular file")
        raise KeyUnavailable(f"{reason}; {KEYSTORE_FIX}") from None
    if not raw.strip():
        raise KeyUnavailable(f"keystore {shown} is not a JSON keystore: the file is empty; {KEYSTORE_FIX}")
    try:
        keyfile = loads_strict(raw, f"keystore {shown}")
    except InvalidAttestationFile:
        raise KeyUnavailable(f"keystore {shown} is not a JSON keystore: its text is not JSON; {KEYSTORE_FIX}") from None
    if not isinstance(keyfile, dict) or "crypto" not in keyfile and "Crypto" not in keyfile:
        raise KeyUnavailable(f"keystore {shown} is not a JSON keystore: it has no \"crypto\" section; {KEYSTORE_FIX}")
    return keyfile


def load_keystore(path: Path) -> SigningKey:
    keyfile = _read_keystore(path)
    try:
        key = Account.decrypt(keyfile, _password(f"password for {path}: "))
    except ValueError as exc:  # eth-keyfile raises ValueError("MAC mismatch") on a wrong password
        raise KeyUnavailable(f"cannot decrypt keystore {printable(path)}: wrong password or damaged file "
                             f"(the password comes from ${PASSWORD_ENV} or a prompt)") from exc
    except (KeyError, TypeError) as exc:
        raise KeyUnavailable(f"keystore {printable(path)} is not a JSON keystore: its crypto section is "
                             f"incomplete; {KEYSTORE_FIX}") from exc
    return SigningKey(bytes(key))


def key_from_env(var: str = KEY_ENV) -> SigningKey | None:
    raw = os.environ.get(var)
    if not raw:
        return None
    text = raw.strip().removeprefix("0x")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyUnavailable(f"{var} must hold a 32-byte hex private key")  # never echo the value
    try:
        return SigningKey(key)
    except Exception:  # outside the curve order
        raise KeyUnavailable(f"{var} is not a valid secp256k1 private key") from None


def load_key(keystore: Path | None, env_var: str = KEY_ENV) -> SigningKey | None:
    """The key from ``keystore`` if given, else from ``env_var``, else None."""
    if keystore is not None:
        return load_keystore(keystore)
    return key_from_env(env_var)


def create_keystore(path: Path, password: str, key: SigningKey | None = None, kdf: str = "scrypt") -> SigningKey:
    """Encrypt a new (or given) key to ``path`` with mode 0600; refuses to overwrite."""
    path = Path(path)
    if path.exists():
        raise InvalidInput(f"{path} exists: refusing to overwrite a keystore")
    if not password:
        raise InvalidInput("an empty keystore password is not allowed")
    key = key or SigningKey.generate()
    keyfile = Account.encrypt(key.reveal(), password, kdf=kdf)
    write_atomic(path, json.dumps(keyfile).encode())
    os.chmod(path, 0o600)
    return key
