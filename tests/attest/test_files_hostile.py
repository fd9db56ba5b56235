"""Hostile files for `vcp verify` and the library, for single, batch and zk attestation files:
duplicate keys, unknown keys, special files, path bytes, Unicode digits, huge integers and bad
archives. The CLI must exit non-zero with one escaped line on stderr and no traceback; the library
must raise a VcpError subclass (or report invalid). Nothing here blocks: FIFOs are only ever
handed to code that opens them non-blocking, and the subprocess runs have a timeout."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcp_toolkit.prover import Prover, prove_batch
from vcp_toolkit.attest.eip712 import Attestation, Domain
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment
from vcp_toolkit.commit.encoding import keccak256, zk_output_commitment
from vcp_toolkit.errors import InvalidAttestationFile, VcpError
from vcp_toolkit.attest.files import BatchBundle, TraceBundle, ZkAttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.verifier import load_any, verify_any

DOMAIN = Domain(31337, "0x" + "5a" * 20)
KEY = SigningKey(bytes.fromhex("4b" * 32))
VCP = Path(sys.executable).parent / "vcp"
OUTCOMES: Counter = Counter()  # (format, class, outcome) -> count, printed by the last test
CONTROL = ("\x00", "\x1b", "\n", "\r", "\u202e", "\ud800")


# ---------------------------------------------------------------- fixtures: one good file of each kind


@pytest.fixture(scope="module")
def good(model, tmp_path_factory):
    """{kind: (directory, file name, bundle name or None)} of valid files."""
    root = tmp_path_factory.mktemp("good")
    prover = Prover(model, KEY, DOMAIN)
    (root / "single").mkdir()
    prover.prove(model.quantize_input(np.full(64, 0.5))).save(root / "single" / "att.json")
    (root / "batch").mkdir()
    prove_batch(prover, random_inputs(model, 5, seed=3)).save(root / "batch" / "batch.json")
    (root / "zk").mkdir()
    _zk_file(model).save(root / "zk" / "zk.json")
    return {"single": (root / "single", "att.json", "att.trace.json"),
            "batch": (root / "batch", "batch.json", "batch.bundle.npz"),
            "zk": (root / "zk", "zk.json", None)}


def _zk_file(model) -> ZkAttestationFile:
    """A zk attestation file that parses (the proof is not real: the zk check is stubbed below)."""
    x = model.quantize_input(np.full(64, 0.25))
    instances = tuple(range(1, 64 + 10 + 1))
    si, so, proof = b"\x01" * 32, b"\x02" * 32, b"\x07" * 64
    att = Attestation(prover=KEY.address, model_root=ModelCommitment(model).root,
                      input_commitment=input_commitment(si, x),
                      output_commitment=zk_output_commitment(so, list(instances[64:])), trace_root=keccak256(proof),
                      nonce=7)
    circuit = {"ezkl": "23.0.5", "logrows": 17, "input_scale": 7, "srs": "local, UNSAFE for production"}
    return ZkAttestationFile(att, DOMAIN, model.name, proof, instances, x, si, so, circuit)


@pytest.fixture(autouse=True)
def zk_stub(monkeypatch):
    """EZKL is never run here: a zk file that gets past parsing 'verifies' (so a hostile file that
    is wrongly accepted shows up as exit 0)."""
    from vcp_toolkit import verifier

    monkeypatch.setattr(verifier, "check_zk_attestation", lambda signed, model, circuit=None: (True, None))


def _copy(good, kind: str, tmp_path: Path) -> tuple[Path, dict]:
    src, name, bundle = good[kind]
    dst = tmp_path / kind
    shutil.copytree(src, dst)
    return dst / name, json.loads((dst / name).read_text())


def run(capsys, *args) -> tuple[int, str, str]:
    from vcp_toolkit.cli import main

    old = signal.getsignal(signal.SIGTERM)
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    finally:
        signal.signal(signal.SIGTERM, old)
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(kind: str, cls: str, code: int, out: str, err: str, expect: tuple[int, ...] = (1,)) -> str:
    """One escaped line on stderr, no traceback, no 'valid' on stdout, exit in ``expect``."""
    assert code in expect, (code, out, err)
    assert "Traceback" not in err + out and "internal error" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert not any(c in err[:-1] for c in CONTROL), repr(err)
    assert "valid:" not in out.replace("invalid:", ""), out
    OUTCOMES[(kind, cls, f"exit {code}")] += 1
    return err


def library_refuses(kind: str, cls: str, path: Path, model, **kw) -> None:
    try:
        report = verify_any(path, model, **kw)
    except VcpError:
        OUTCOMES[(kind, cls, "library: VcpError")] += 1
        return
    assert not report.valid, report
    OUTCOMES[(kind, cls, "library: report invalid")] += 1


def _rehash_bundle(att_path: Path, doc: dict, kind: str) -> None:
    """Point the (unsigned) sha256 of the file at its bundle's current bytes."""
    section = "trace_bundle" if kind == "single" else "bundle"
    doc[section]["sha256"] = hashlib.sha256((att_path.parent / doc[section]["path"]).read_bytes()).hexdigest()
    att_path.write_text(json.dumps(doc))


# ---------------------------------------------------------------- JSON text with a duplicate key


def _dump_dup(value, target: tuple, key: str, here: tuple = ()) -> str:
    """JSON text of ``value`` where the object at ``target`` names ``key`` twice: first with a
    bogus value, then with the real one (so a last-wins reader sees the original)."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if here == target and k == key:
                parts.append(json.dumps(k) + ": " + json.dumps("0x" + "66" * 32))
            parts.append(json.dumps(k) + ": " + _dump_dup(v, target, key, here + (k,)))
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump_dup(v, target, key, here + (i,)) for i, v in enumerate(value)) + "]"
    return json.dumps(value)


def _objects(value, here: tuple = ()):
    """Every (path, dict) in a JSON document."""
    if isinstance(value, dict):
        yield here, value
        for k, v in value.items():
            yield from _objects(v, here + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _objects(v, here + (i,))


def _at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


@pytest.mark.parametrize("kind", ["single", "batch", "zk", "trace bundle"])
def test_duplicate_keys_refused_everywhere(good, model, tmp_path, capsys, kind):
    fmt = "single" if kind == "trace bundle" else kind
    att_path, doc = _copy(good, fmt, tmp_path)
    target = att_path.with_name("att.trace.json") if kind == "trace bundle" else att_path
    original = json.loads(target.read_text())
    for path, obj in _objects(original):
        for key in list(obj)[:3]:
            target.write_text(_dump_dup(original, path, key))
            assert json.loads(target.read_text()) == original  # what a last-wins reader sees: the original
            if kind == "trace bundle":
                _rehash_bundle(att_path, doc, "single")
            err = refused(kind, "duplicate keys", *run(capsys, "verify", att_path))
            assert "duplicate key" in err
            library_refuses(kind, "duplicate keys", att_path, model)


@pytest.mark.parametrize("kind", ["single", "batch", "zk", "trace bundle"])
def test_unknown_keys_refused_everywhere(good, model, tmp_path, capsys, kind):
    fmt = "single" if kind == "trace bundle" else kind
    att_path, doc = _copy(good, fmt, tmp_path)
    target = att_path.with_name("att.trace.json") if kind == "trace bundle" else att_path
    original = json.loads(target.read_text())
    for path, _ in _objects(original):
        if path[:1] == ("typed_data",):
            continue  # typed_data must equal what the signed fields give: any extra key differs
        mutated = json.loads(json.dumps(original))
        _at(mutated, path)["comment"] = "not signed, not checked"
        target.write_text(json.dumps(mutated))
        if kind == "trace bundle":
            _rehash_bundle(att_path, doc, "single")
        err = refused(kind, "unknown keys", *run(capsys, "verify", att_path))
        assert "unknown key" in err
        library_refuses(kind, "unknown keys", att_path, model)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_extra_and_duplicate_keys(good, model, tmp_path_factory, data):
    """Hypothesis: a random key (any text) added to, or duplicated in, a random object of a random
    file kind never verifies and never escapes as a non-VcpError."""
    kind = data.draw(st.sampled_from(["single", "batch", "zk"]))
    att_path, doc = _copy(good, kind, tmp_path_factory.mktemp("rnd"))
    paths = [p for p, _ in _objects(doc)]
    path = data.draw(st.sampled_from(paths))
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(_at(doc, path))))
        att_path.write_text(_dump_dup(doc, path, key))
        cls = "duplicate keys"
    else:
        key = data.draw(st.text(max_size=12).filter(lambda k: k not in _at(doc, path)))
        _at(doc, path)[key] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=8)))
        att_path.write_text(json.dumps(doc))
        cls = "unknown keys"
    with pytest.raises(VcpError):
        load_any(att_path)
    OUTCOMES[(kind, cls + " (hypothesis)", "library: VcpError")] += 1


# ---------------------------------------------------------------- special files


def _special(tmp_path: Path, what: str) -> Path:
    target = tmp_path / "special"
    if what == "fifo":
        os.mkfifo(target)
    elif what == "directory":
        target.mkdir()
    elif what == "symlink loop":
        os.symlink(tmp_path / "special2", target)
        os.symlink(target, tmp_path / "special2")
    elif what == "dangling symlink":
        os.symlink(tmp_path / "nowhere", target)
    elif what == "symlink to /dev/zero":
        os.symlink("/dev/zero", target)
    elif what == "symlink outside":
        outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
        outside.write_text("{}")
        os.symlink(outside, target)
    return target


SPECIAL = {"fifo": (1,), "directory": (1,), "symlink loop": (3,), "dangling symlink": (3,),
           "symlink to /dev/zero": (1,), "symlink outside": (1,)}


@pytest.mark.parametrize("what", sorted(SPECIAL))
@pytest.mark.parametrize("kind", ["single", "batch"])
def test_special_files_as_the_named_bundle(good, model, tmp_path, capsys, kind, what):
    att_path, doc = _copy(good, kind, tmp_path)
    section = "trace_bundle" if kind == "single" else "bundle"
    special = _special(att_path.parent, what)
    doc[section]["path"] = special.name
    att_path.write_text(json.dumps(doc))
    refused(kind, "special files", *run(capsys, "verify", att_path), expect=SPECIAL[what])
    library_refuses(kind, "special files", att_path, model)


@pytest.mark.parametrize("what", ["fifo", "directory", "symlink loop", "/dev/zero"])
@pytest.mark.parametrize("kind", ["single", "batch", "zk"])
def test_special_files_as_the_file_or_bundle_argument(good, tmp_path, capsys, kind, what):
    att_path, _ = _copy(good, kind, tmp_path)
    special = Path("/dev/zero") if what == "/dev/zero" else _special(tmp_path, what)
    expect = (3,) if what == "symlink loop" else (1,)
    refused(kind, "special files", *run(capsys, "verify", special), expect=expect)
    if kind != "zk":
        refused(kind, "special files", *run(capsys, "verify", att_path, "--bundle", special), expect=expect)


def test_fifo_never_hangs_the_script(good, tmp_path):
    """The old code blocked forever opening a FIFO: run the real script, with a timeout."""
    att_path, doc = _copy(good, "single", tmp_path)
    os.mkfifo(att_path.parent / "fifo")
    doc["trace_bundle"]["path"] = "fifo"
    att_path.write_text(json.dumps(doc))
    for args in (["verify", att_path], ["verify", att_path.parent / "fifo"],
                 ["verify", good["single"][0] / "att.json", "--bundle", att_path.parent / "fifo"]):
        proc = subprocess.run([str(VCP), *map(str, args)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        refused("single", "special files (script)", proc.returncode, proc.stdout, proc.stderr)
        assert "not a regular file" in proc.stderr


def test_dev_zero_is_not_read(good, tmp_path):
    """--bundle /dev/zero used to be read without end; now it is refused before any read."""
    att_path, _ = _copy(good, "single", tmp_path)
    proc = subprocess.run([str(VCP), "verify", str(att_path), "--bundle", "/dev/zero"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "not a regular file" in refused("single", "special files (script)", proc.returncode, proc.stdout,
                                           proc.stderr)


# ---------------------------------------------------------------- bytes in the bundle path

FAKE = "\nvalid: label 3, signed by 0x" + "ab" * 20
PATH_BYTES = {
    "nul": "att.trace.json\x00",
    "newline": "att.trace.json" + FAKE,
    "ansi": "\x1b[2K\x1b[1Gvalid: label 3\x1b[8m",
    "lone surrogate": "att\ud800.trace.json",
    "bidi override": "att.\u202enosj.ecart",
    "absolute": "/etc/passwd",
    "absolute to the bundle": "",  # filled in with the real absolute path of the bundle
    "dotdot escape": "../att.trace.json",
    "dotdot inside": "sub/../../x.json",
    "empty": "",
    "too long": "a/" * 600,
}


@pytest.mark.parametrize("name", sorted(PATH_BYTES))
@pytest.mark.parametrize("kind", ["single", "batch"])
def test_path_bytes_refused_and_escaped(good, model, tmp_path, capsys, kind, name):
    att_path, doc = _copy(good, kind, tmp_path)
    section = "trace_bundle" if kind == "single" else "bundle"
    value = PATH_BYTES[name] if name != "absolute to the bundle" else str(att_path.parent / doc[section]["path"])
    doc[section]["path"] = value
    att_path.write_text(json.dumps(doc))  # json.dumps writes "\ud800" as an escape, as an attacker would
    err = refused(kind, "path bytes", *run(capsys, "verify", att_path))
    assert "valid: label" not in err.replace("'", "").split("path")[0]
    with pytest.raises(InvalidAttestationFile):
        load_any(att_path)
    OUTCOMES[(kind, "path bytes", "library: VcpError")] += 1


def test_fake_valid_line_cannot_be_printed_by_the_script(good, tmp_path):
    """The crafted file of the issue: a newline and ANSI escapes in the path. The script's output
    holds no line starting with 'valid:' and no escape character."""
    att_path, doc = _copy(good, "single", tmp_path)
    for value in (PATH_BYTES["newline"], PATH_BYTES["ansi"]):
        doc["trace_bundle"]["path"] = value
        att_path.write_text(json.dumps(doc))
        proc = subprocess.run([str(VCP), "verify", str(att_path)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        refused("single", "path bytes (script)", proc.returncode, proc.stdout, proc.stderr)
        assert not any(line.startswith("valid:") for line in (proc.stdout + proc.stderr).splitlines())
    # A user-typed path with control characters is echoed escaped too.
    weird = tmp_path / "a\x1b[31m\nvalid: b.json"
    proc = subprocess.run([str(VCP), "verify", str(weird)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert "\\x1b[31m\\nvalid: b.json" in refused("single", "path bytes (script)", proc.returncode, proc.stdout,
                                                  proc.stderr, expect=(3,))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.text(min_size=1, max_size=40))
def test_any_bundle_path_is_refused_or_confined(good, tmp_path_factory, path):
    """Hypothesis over bundle paths: either refused as a VcpError, or it resolves inside the folder."""
    att_path, doc = _copy(good, "single", tmp_path_factory.mktemp("p"))
    doc["trace_bundle"]["path"] = path
    att_path.write_text(json.dumps(doc))
    try:
        signed = load_any(att_path)
        resolved = signed.resolve_bundle(att_path)
    except VcpError:
        OUTCOMES[("single", "path bytes (hypothesis)", "library: VcpError")] += 1
        return
    folder = os.path.realpath(att_path.parent)
    assert os.path.commonpath([folder, str(resolved)]) == folder
    OUTCOMES[("single", "path bytes (hypothesis)", "accepted, inside the folder")] += 1


# ---------------------------------------------------------------- Unicode digits and huge integers

UNICODE_DIGITS = ["31337\u00b2", "\u0663\u0661\u0663\u0663\u0667", "\uff13\uff11", "1\u20802", "\U0001d7d1"]


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
@pytest.mark.parametrize("kind,where", [("single", ("attestation", "nonce")), ("single", ("domain", "chainId")),
                                        ("batch", ("batch", "count")), ("batch", ("batch", "nonce")),
                                        ("zk", ("zk", "instances", 0)), ("zk", ("attestation", "nonce"))])
def test_unicode_digits_refused(good, model, tmp_path, capsys, kind, where, digits):
    assert digits.isdigit() or digits[1:].isdigit() or not digits.isascii()
    att_path, doc = _copy(good, kind, tmp_path)
    _at(doc, where[:-1])[where[-1]] = digits
    if where[0] in ("attestation", "batch", "domain"):  # keep the unsigned copies consistent
        _at(doc["typed_data"], ("message",) if where[0] != "domain" else ("domain",))[where[-1]] = digits
    att_path.write_text(json.dumps(doc))
    refused(kind, "unicode digits", *run(capsys, "verify", att_path))
    library_refuses(kind, "unicode digits", att_path, model)


HUGE = "9" * 5000


@pytest.mark.parametrize("kind,where", [("single", ("version",)), ("single", ("domain", "chainId")),
                                        ("single", ("model", "params")), ("trace bundle", ("label",)),
                                        ("trace bundle", ("trace", 0, 0)), ("batch", ("domain", "chainId")),
                                        ("zk", ("zk", "input", 0)), ("zk", ("zk", "circuit", "logrows"))])
@pytest.mark.parametrize("form", ["json integer", "decimal string"])
def test_huge_integers_refused(good, model, tmp_path, capsys, kind, where, form):
    fmt = "single" if kind == "trace bundle" else kind
    att_path, doc = _copy(good, fmt, tmp_path)
    target = att_path.with_name("att.trace.json") if kind == "trace bundle" else att_path
    data = json.loads(target.read_text())
    _at(data, where[:-1])[where[-1]] = "HUGE"
    text = json.dumps(data).replace('"HUGE"', HUGE if form == "json integer" else f'"{HUGE}"')
    target.write_text(text)
    if kind == "trace bundle":
        _rehash_bundle(att_path, doc, "single")
    refused(kind, "huge integers", *run(capsys, "verify", att_path))
    library_refuses(kind, "huge integers", att_path, model)


def test_huge_decimal_strings_where_strings_are_expected(good, model, tmp_path, capsys):
    for kind, where in (("single", ("attestation", "nonce")), ("batch", ("batch", "count")),
                        ("zk", ("zk", "instances", 3))):
        att_path, doc = _copy(good, kind, tmp_path / kind)
        _at(doc, where[:-1])[where[-1]] = HUGE
        att_path.write_text(json.dumps(doc))
        refused(kind, "huge integers", *run(capsys, "verify", att_path))
        library_refuses(kind, "huge integers", att_path, model)


# ---------------------------------------------------------------- bad batch archives


def _npy_header(shape, descr="|i1", fortran=False, version=(1, 0)) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": fortran, "shape": shape}
    writer = np.lib.format.write_array_header_1_0 if version == (1, 0) else np.lib.format.write_array_header_2_0
    writer(buffer, header)
    return buffer.getvalue()


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def _zip(members: list[tuple[str, bytes]], method=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _bad_archives(raw: bytes) -> dict[str, bytes]:
    m = _members(raw)
    rows = 10**13
    bad = {
        "empty": b"",
        "not a zip": b"garbage, not a zip archive",
        "truncated zip": raw[: len(raw) // 2],
        "truncated end": raw[:-10],
        "wrong member name": _zip([("evil.npy" if n == "trace1.npy" else n, d) for n, d in m.items()]),
        "extra member": _zip([*m.items(), ("extra.npy", m["trace0.npy"])]),
        "missing member": _zip([(n, d) for n, d in m.items() if n != "input_salts.npy"]),
        "one trace only": _zip([(n, d) for n, d in m.items() if not n.startswith("trace1")
                                and not n.startswith("trace2")]),
        "gap in traces": _zip([(n, d) for n, d in m.items() if n != "trace1.npy"]),
        "duplicate member": _zip([*m.items(), ("trace0.npy", m["trace0.npy"])]),
        "header claims 10**13 rows": _zip([(n, _npy_header((rows, 64)) + d[-64:] if n == "trace0.npy" else d)
                                           for n, d in m.items()]),
        "header claims huge salts": _zip([(n, _npy_header((2**62,), "|u1") if n == "input_salts.npy" else d)
                                          for n, d in m.items()]),
        "negative shape": _zip([(n, _npy_header((-1, -64)) + d[-64:] if n == "trace0.npy" else d)
                                for n, d in m.items()]),
        "object dtype": _zip([(n, _npy_header((5, 64), "|O") + b"\x00" * 320 if n == "trace0.npy" else d)
                              for n, d in m.items()]),
        "float dtype": _zip([(n, _npy_header((5, 8), "<f8") + b"\x00" * 320 if n == "trace0.npy" else d)
                             for n, d in m.items()]),
        "fortran order": _zip([(n, _npy_header((5, 64), fortran=True) + d[-320:] if n == "trace0.npy" else d)
                               for n, d in m.items()]),
        "npy 2.0 header claiming 10**13": _zip([(n, _npy_header((rows, 64), version=(2, 0)) + d[-64:]
                                                 if n == "trace0.npy" else d) for n, d in m.items()]),
        "garbage member": _zip([(n, b"\x93NUMPY\x01\x00garbage" if n == "trace0.npy" else d) for n, d in m.items()]),
        "not npy": _zip([(n, b"hello" if n == "model_root.npy" else d) for n, d in m.items()]),
        "1-D trace": _zip([(n, _npy_header((320,)) + d[-320:] if n == "trace0.npy" else d) for n, d in m.items()]),
        "zip bomb": _zip([*[(n, d) for n, d in m.items() if n != "trace0.npy"],
                          ("trace0.npy", _npy_header((2**20, 80)) + b"\x00" * (80 * 2**20))], zipfile.ZIP_DEFLATED),
    }
    return bad


def test_bad_batch_archives(good, model, tmp_path, capsys):
    src, name, bundle_name = good["batch"]
    raw = (src / bundle_name).read_bytes()
    for label, data in _bad_archives(raw).items():
        att_path, doc = _copy(good, "batch", tmp_path / label.replace(" ", "-").replace("*", ""))
        (att_path.parent / bundle_name).write_bytes(data)
        _rehash_bundle(att_path, doc, "batch")
        refused("batch", "bad archives", *run(capsys, "verify", att_path))
        with pytest.raises(InvalidAttestationFile):
            BatchBundle.from_bytes(data)
        OUTCOMES[("batch", "bad archives", "library: InvalidAttestationFile")] += 1
        library_refuses("batch", "bad archives", att_path, model)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_batch_archives(good, data):
    """Hypothesis: random byte flips, truncations and insertions in a real bundle: a VcpError or a
    bundle that parses (never another exception)."""
    src, _, bundle_name = good["batch"]
    raw = bytearray((src / bundle_name).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del raw[at:at + data.draw(st.integers(1, 64))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    try:
        BatchBundle.from_bytes(bytes(raw))
        OUTCOMES[("batch", "bad archives (hypothesis)", "parsed (hash would differ)")] += 1
    except VcpError:
        OUTCOMES[("batch", "bad archives (hypothesis)", "library: VcpError")] += 1


def test_trace_bundle_label_must_match_output(good, model, tmp_path, capsys):
    att_path, doc = _copy(good, "single", tmp_path)
    bundle = att_path.with_name("att.trace.json")
    data = json.loads(bundle.read_text())
    assert data["label"] == TraceBundle.from_json(data).label
    data["label"] = (data["label"] + 1) % 10
    bundle.write_text(json.dumps(data))
    _rehash_bundle(att_path, doc, "single")
    assert "label" in refused("single", "unchecked fields", *run(capsys, "verify", att_path))
    library_refuses("single", "unchecked fields", att_path, model)


def test_report_hostile_inputs_tried():
    """Prints the counts for the closing note: per format and class, what happened."""
    for (kind, cls, outcome), n in sorted(OUTCOMES.items()):
        print(f"{kind:13} {cls:32} {outcome:32} {n}")
    assert sum(OUTCOMES.values()) > 0


@pytest.mark.parametrize("which", ["deployments", "state", "keystore"])
def test_duplicate_keys_refused_in_deployments_state_and_keystores(which, tmp_path):
    from vcp_toolkit.chain import deployments
    from vcp_toolkit.errors import InvalidInput, KeyUnavailable
    from vcp_toolkit.attest.keys import load_keystore
    from vcp_toolkit.ops.state import StateFile

    path = tmp_path / f"{which}.json"
    path.write_text('{"a": 1, "a": 2}')
    with pytest.raises((InvalidInput, KeyUnavailable), match="duplicate"):
        if which == "deployments":
            deployments.record(path, 1, "x", None)
        elif which == "state":
            StateFile(path, {})
        else:
            load_keystore(path)


def test_writes_never_replace_a_device_a_fifo_or_a_symlink(tmp_path):
    """Write-then-rename over a special file would swap it for a plain file (as root: /dev/null)."""
    import os

    from vcp_toolkit.attest.files import write_atomic
    from vcp_toolkit.errors import InvalidInput

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "real.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    for path in (fifo, link, tmp_path, Path("/dev/null")):
        with pytest.raises(InvalidInput, match="not a regular file"):
            write_atomic(path, b"x")
    assert fifo.exists() and not fifo.is_file() and target.read_text() == "{}" and link.is_symlink()
    write_atomic(target, b"[]")
    assert target.read_bytes() == b"[]"
