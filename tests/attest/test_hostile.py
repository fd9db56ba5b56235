"""Hostile input: mutated attestation files and trace bundles never verify and never crash; bad
CLI inputs (NaN, inf, wrong shapes, huge values, huge files) give one line and exit 2."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.cli import main
from vcp_toolkit.errors import VcpError
from vcp_toolkit.attest.files import AttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.verifier import verify_files

TRIED: dict[str, int] = {"attestation file": 0, "trace bundle": 0, "cli input": 0}

HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**300), 2**300), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80), st.sampled_from(["0x", "0x" + "00" * 32, "0x" + "ff" * 65, "0x" + "zz" * 32, "-1",
                                           "1" * 100, "0x" + "00" * 20]),
    st.lists(st.integers(-300, 300), max_size=70), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.fixture(scope="module")
def signed(model, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    key = SigningKey.generate()
    proven = Prover(model, key, Domain(31337, "0x" + "5f" * 20)).prove(model.quantize_input(np.full(64, 0.5)))
    att, bundle = proven.save(directory / "att.json")
    return directory, json.loads(att.read_text()), json.loads(bundle.read_text())


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:70]):
            yield from _paths(v, prefix + (i,))


def _replace(doc, path, new):
    doc = copy.deepcopy(doc)
    if not path:
        return new
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return doc


def _write(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, allow_nan=True))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_attestation_files_never_verify(signed, model, data):
    directory, att, _ = signed
    paths = list(_paths(att))
    path = data.draw(st.sampled_from(paths))
    mutated = _replace(att, path, data.draw(HOSTILE_VALUES))
    TRIED["attestation file"] += 1
    target = directory / "mutated.json"
    _write(target, mutated)
    try:
        report = verify_files(target, model, bundle_path=directory / "att.trace.json")
    except VcpError:
        return  # a clear, typed refusal
    if report.valid:  # only a change that touches nothing signed may still verify
        original = AttestationFile.from_json(att)
        again = AttestationFile.load(target)
        assert (again.attestation, again.domain, again.signature) == (original.attestation, original.domain,
                                                                       original.signature)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_trace_bundles_never_verify(signed, model, data):
    directory, att, bundle = signed
    path = data.draw(st.sampled_from(list(_paths(bundle))))
    mutated = _replace(bundle, path, data.draw(HOSTILE_VALUES))
    TRIED["trace bundle"] += 1
    target = directory / "bundle.json"
    _write(target, mutated)
    changed = mutated != bundle
    try:
        report = verify_files(directory / "att.json", model, bundle_path=target)
    except VcpError:
        return
    # The attestation names its bundle by sha256: any byte changed is refused.
    assert not report.valid or not changed


BAD_INPUTS = [
    ("nan.json", json.dumps([float("nan")] * 64, allow_nan=True)),
    ("inf.json", json.dumps([float("inf")] * 64, allow_nan=True)),
    ("short.json", json.dumps([0.5] * 63)),
    ("long.json", json.dumps([0.5] * 65)),
    ("nested.json", json.dumps([[0.5] * 8] * 8)),
    ("strings.json", json.dumps(["a"] * 64)),
    ("object.json", json.dumps({"x": 1})),
    ("garbage.json", "[[[[["),
    ("deep.json", "[" * 150_000),
    ("empty.npy", b""),
    ("text.npy", b"not numpy"),
]


@pytest.mark.parametrize("name,content", BAD_INPUTS, ids=[n for n, _ in BAD_INPUTS])
def test_bad_cli_inputs_give_one_line(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    TRIED["cli input"] += 1
    code = main(["prove", "--input", str(path), "--out", str(tmp_path / "a.json"), "--chain-id", "1", "--registry",
                 "0x" + "11" * 20])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_huge_finite_values_saturate(model):
    TRIED["cli input"] += 1
    assert (model.quantize_input(np.full(64, 1e308)) == 127).all()
    assert (model.quantize_input(np.full(64, -1e308)) == -128).all()


def test_int8_flag_refuses_out_of_range_and_fractions(tmp_path, capsys):
    for values in ([128] * 64, [0.5] * 64, [-129] * 64):
        (tmp_path / "v.json").write_text(json.dumps(values))
        TRIED["cli input"] += 1
        assert main(["prove", "--input", str(tmp_path / "v.json"), "--int8", "--out", str(tmp_path / "a.json"),
                     "--chain-id", "1", "--registry", "0x" + "11" * 20]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_huge_files_are_refused_without_reading_them(tmp_path, capsys):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: 200 MB on paper, nothing on disk
        fh.truncate(200 * 2**20)
    for args, code in ((["verify", str(big)], 1), (["prove", "--input", str(big), "--out", str(tmp_path / "a.json"),
                                                    "--chain-id", "1", "--registry", "0x" + "11" * 20], 2)):
        TRIED["cli input"] += 1
        assert main(args) == code
        err = capsys.readouterr().err
        assert "bytes" in err and len(err.strip().splitlines()) == 1


def test_report_bad_inputs_tried():
    """Prints the counts for the closing note (hypothesis examples run by the tests above)."""
    print("bad inputs tried: " + ", ".join(f"{k} {v}" for k, v in TRIED.items()))
    assert not math.isnan(sum(TRIED.values()))
