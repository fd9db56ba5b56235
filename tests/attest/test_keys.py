"""Signing keys: encrypted keystores and the environment variable (vcp.attest.keys)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from eth_account import Account

from vcp_toolkit.errors import InvalidInput, KeyUnavailable, VcpError
from vcp_toolkit.attest.keys import KEY_ENV, PASSWORD_ENV, SigningKey, create_keystore, key_from_env, load_key, load_keystore

PASSWORD = "hunter2 but longer"
RAW = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDRESS = Account.from_key(RAW).address


@pytest.fixture(autouse=True)
def no_vcp_env(monkeypatch):
    for name in (KEY_ENV, PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: never prompt


def test_signing_key_basics():
    key = SigningKey(RAW)
    assert key.address == ADDRESS
    assert key.reveal() == RAW
    generated = SigningKey.generate()
    assert len(generated.reveal()) == 32 and generated.address != ADDRESS
    assert SigningKey.generate().reveal() != generated.reveal()


def test_signing_key_hides_itself():
    key = SigningKey(RAW)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert RAW.hex() not in text.lower()
        assert ADDRESS in text and "hidden" in text
    assert not hasattr(key, "__dict__")  # __slots__: nothing for vars() to show
    with pytest.raises(AttributeError):
        key.other = 1


def test_keystore_roundtrip(tmp_path, monkeypatch):
    path = tmp_path / "k.json"
    key = create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    assert key.address == ADDRESS
    text = path.read_text()
    assert RAW.hex() not in text.lower()
    data = json.loads(text)
    assert data["crypto"]["kdf"] == "pbkdf2"
    assert data["address"].lower() == ADDRESS[2:].lower()
    assert (path.stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    loaded = load_keystore(path)
    assert loaded.reveal() == RAW and loaded.address == ADDRESS
    assert load_key(path).reveal() == RAW


def test_keystore_new_key(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "new.json"
    key = create_keystore(path, PASSWORD, kdf="pbkdf2")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert load_keystore(path).reveal() == key.reveal()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_keystore_wrong_password(tmp_path, monkeypatch):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD + "x")
    with pytest.raises(KeyUnavailable) as info:
        load_keystore(path)
    assert RAW.hex() not in str(info.value).lower() and PASSWORD not in str(info.value)


def test_keystore_needs_password(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    with pytest.raises(KeyUnavailable, match=PASSWORD_ENV):  # no env, stdin not a terminal
        load_keystore(path)


def test_keystore_refuses_overwrite(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="refusing to overwrite"):
        create_keystore(path, PASSWORD, kdf="pbkdf2")
    assert path.read_bytes() == before
    other = tmp_path / "other.txt"
    other.write_text("precious")
    with pytest.raises(InvalidInput):
        create_keystore(other, PASSWORD, kdf="pbkdf2")
    assert other.read_text() == "precious"


def test_keystore_empty_password(tmp_path):
    with pytest.raises(InvalidInput):
        create_keystore(tmp_path / "k.json", "", kdf="pbkdf2")
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("content", [b"", b"not json", b"{}", b'{"crypto": {}}', b"[]", b"\xff\xfe"])
def test_damaged_keystore(tmp_path, monkeypatch, content):
    path = tmp_path / "k.json"
    path.write_bytes(content)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with pytest.raises(KeyUnavailable):
        load_keystore(path)


def test_missing_keystore(tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with pytest.raises(KeyUnavailable):
        load_keystore(tmp_path / "missing.json")


def test_keystore_damaged_ciphertext(tmp_path, monkeypatch):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    data = json.loads(path.read_text())
    c = data["crypto"]["ciphertext"]
    data["crypto"]["ciphertext"] = ("0" if c[0] != "0" else "1") + c[1:]
    path.write_text(json.dumps(data))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with pytest.raises(KeyUnavailable):
        load_keystore(path)


@pytest.mark.parametrize("text", [RAW.hex(), "0x" + RAW.hex(), "  0x" + RAW.hex() + "\n", RAW.hex().upper()])
def test_env_key_parsing(monkeypatch, text):
    monkeypatch.setenv(KEY_ENV, text)
    key = key_from_env()
    assert key is not None and key.reveal() == RAW
    assert load_key(None).reveal() == RAW


def test_env_key_absent(monkeypatch):
    assert key_from_env() is None
    assert load_key(None) is None
    monkeypatch.setenv(KEY_ENV, "")
    assert key_from_env() is None
    monkeypatch.setenv("OTHER_KEY_VAR", RAW.hex())
    assert key_from_env("OTHER_KEY_VAR").reveal() == RAW


@pytest.mark.parametrize("text", ["nothex", RAW.hex()[:-2], RAW.hex() + "00", "0x", "0x0x" + RAW.hex(),
                                  "00" * 32, "ff" * 32, RAW.hex()[:-1] + "g", "0X" + RAW.hex()])
def test_env_key_garbage(monkeypatch, text):
    monkeypatch.setenv(KEY_ENV, text)
    with pytest.raises(KeyUnavailable) as info:
        key_from_env()
    message = str(info.value)
    assert KEY_ENV in message
    for shown in (text.strip(), text.strip().removeprefix("0x")):
        if len(shown) > 2:
            assert shown not in message
    assert info.value.__cause__ is None  # no chained exception carrying the value


def test_keystore_wins_over_env(tmp_path, monkeypatch):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, SigningKey(RAW), kdf="pbkdf2")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv(KEY_ENV, "11" * 32)
    assert load_key(path).reveal() == RAW
    assert load_key(None).reveal() == bytes.fromhex("11" * 32)


def test_errors_are_vcp_errors():
    assert issubclass(KeyUnavailable, VcpError) and not issubclass(KeyUnavailable, InvalidInput)
