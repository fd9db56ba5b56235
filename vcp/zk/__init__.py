"""The zk baseline: prove the same fixed-point model with EZKL (a Halo2 zk-SNARK), offline.

Install with ``pip install 'vcp[zk]'``. Everything runs locally:

* the model is exported to ONNX taking vcp's int8 input codes (vcp.model.onnx_io.export_onnx), so
  the proof's public inputs are exactly the committed input times ``2**input_scale``;
* the structured reference string is GENERATED LOCALLY (``ezkl.gen_srs``): fine for measuring,
  UNSAFE for production, where whoever ran the generation could forge proofs. Pass a real one
  (e.g. from a public ceremony) with ``srs=``/``--srs``;
* settings, keys and the generated verifier are cached per model root under ``$VCP_ZK_CACHE``
  (default ``~/.cache/vcp/zk``), never in git: proving keys run to hundreds of MB;
* ``create_evm_verifier`` writes ``Verifier.sol`` and then tries to download a native solc, which
  fails offline; the file is complete, so vcp compiles it with the project's pinned solcjs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from importlib import resources
import os
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp.commit.commitments import ModelCommitment
from vcp.commit.encoding import BN254_R, field_element, keccak256
from vcp.errors import ToolMissing, VcpError
from vcp.model.fixedpoint import check_input
from vcp.model.quantize import QuantizedModel

INSTALL_HINT = "the zk backend needs EZKL: pip install 'vcp[zk]' (or pip install ezkl)"
UNSAFE_SRS_NOTE = ("UNSAFE: generated locally by ezkl.gen_srs for measurement; whoever generates an SRS can forge "
                   "proofs. Use a public ceremony's SRS in production (--srs).")


class ZkError(VcpError):
    """The zk pipeline failed (EZKL or the verifier build)."""


def ezkl_version() -> str | None:
    try:
        import importlib.metadata

        return importlib.metadata.version("ezkl")
    except Exception:
        return None


def require_ezkl():
    try:
        import ezkl
    except ImportError as exc:
        raise ToolMissing(INSTALL_HINT) from exc
    return ezkl


def cache_root() -> Path:
    return Path(os.environ.get("VCP_ZK_CACHE") or Path.home() / ".cache" / "vcp" / "zk")


def decode_field(value: int) -> int:
    """A field element back to a signed integer (values above r/2 are negative)."""
    return value - BN254_R if value > BN254_R // 2 else value


@dataclass(frozen=True)
class ZkCircuit:
    """A set-up circuit for one model: where its files are and what its public values mean."""

    model_root: bytes
    directory: Path
    input_scale: int
    output_scale: int
    logrows: int
    in_width: int
    out_width: int
    srs_path: Path
    srs_unsafe: bool
    setup_s: float  # 0 when it came from the cache
    verifier_abi: list
    verifier_bytecode: str

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def pk_bytes(self) -> int:
        return self.path("pk.key").stat().st_size


@dataclass(frozen=True)
class ZkProof:
    proof: bytes
    instances: tuple[int, ...]
    input: np.ndarray  # the int8 codes proven
    prove_s: float
    peak_rss_mb: float
    proof_file: dict  # EZKL's proof.json, for its own verifier

    @property
    def outputs(self) -> tuple[int, ...]:
        return self.instances[len(self.input):]

    @property
    def proof_hash(self) -> bytes:
        return keccak256(self.proof)


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _compile_verifier(sol: Path) -> dict[str, Any]:
    from vcp.chain.nodes import find_tool

    node = shutil.which("node")
    if node is None:
        raise ToolMissing("compiling the zk verifier needs Node.js 20 and the project's npm install")
    modules = find_tool("solcjs").parent.parent
    script = Path(str(resources.files("contracts") / "compile_file.mjs"))
    proc = subprocess.run([node, str(script), str(sol)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NODE_PATH": str(modules)})
    if proc.returncode != 0:
        raise ZkError(f"solcjs could not compile {sol.name}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout)


def _write_input(path: Path, x: np.ndarray) -> None:
    path.write_text(json.dumps({"input_data": [[float(v) for v in x.reshape(-1)]]}))


def prepare_circuit(model: QuantizedModel, calibration: np.ndarray | None = None, srs: Path | None = None) -> ZkCircuit:
    """Export, calibrate, compile, set up and build the EVM verifier, or reuse the cached ones."""
    ezkl = require_ezkl()
    from vcp.model.onnx_io import export_onnx

    root = ModelCommitment(model).root
    directory = cache_root() / f"{root.hex()}-ezkl{ezkl_version()}"
    directory.mkdir(parents=True, exist_ok=True)
    done = directory / "circuit.json"
    if done.exists():
        meta = json.loads(done.read_text())
        return ZkCircuit(root, directory, meta["input_scale"], meta["output_scale"], meta["logrows"],
                         model.input_width, model.output_width, Path(meta["srs"]), meta["srs_unsafe"], 0.0,
                         meta["abi"], meta["bytecode"])
    started = time.perf_counter()
    onnx_path = export_onnx(model, directory / "model.onnx", batch=1, int8_input=True)
    calib = calibration if calibration is not None else \
        np.random.default_rng(0).integers(-128, 128, (1, model.input_width))
    _write_input(directory / "calibration.json", np.asarray(calib)[:1])
    args = ezkl.PyRunArgs()
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    try:
        ezkl.gen_settings(str(onnx_path), str(directory / "settings.json"), py_run_args=args)
        ezkl.calibrate_settings(str(directory / "calibration.json"), str(onnx_path), str(directory / "settings.json"),
                                "resources")
        ezkl.compile_circuit(str(onnx_path), str(directory / "model.compiled"), str(directory / "settings.json"))
        settings = json.loads((directory / "settings.json").read_text())
        run_args = settings["run_args"]
        logrows = int(run_args["logrows"])
        srs_unsafe = srs is None
        if srs is None:
            srs = cache_root() / "srs" / f"kzg{logrows}.srs"
            if not srs.exists():
                srs.parent.mkdir(parents=True, exist_ok=True)
                ezkl.gen_srs(str(srs), logrows)
                (srs.parent / "UNSAFE-LOCAL-SRS.txt").write_text(UNSAFE_SRS_NOTE + "\n")
        ezkl.setup(str(directory / "model.compiled"), str(directory / "vk.key"), str(directory / "pk.key"), str(srs))
        sol = directory / "Verifier.sol"

        async def build_verifier() -> None:
            await ezkl.create_evm_verifier(str(directory / "vk.key"), str(directory / "settings.json"), str(sol),
                                           str(directory / "Verifier.abi"), str(srs))

        try:
            asyncio.run(build_verifier())
        except RuntimeError as exc:  # it writes Verifier.sol, then fails fetching a native solc
            if not sol.exists():
                raise ZkError(f"EZKL did not write the verifier: {exc}") from exc
    except ZkError:
        raise
    except Exception as exc:  # EZKL raises RuntimeError/ValueError with its own text
        raise ZkError(f"EZKL pipeline failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    artifact = _compile_verifier(sol)
    meta = {"input_scale": int(run_args["input_scale"]), "output_scale": int(run_args.get("output_scale",
            run_args["input_scale"])), "logrows": logrows, "srs": str(srs), "srs_unsafe": srs_unsafe,
            "abi": artifact["abi"], "bytecode": artifact["bytecode"], "ezkl": ezkl_version(),
            "settings_sha256": hashlib.sha256((directory / "settings.json").read_bytes()).hexdigest()}
    done.write_text(json.dumps(meta))
    return ZkCircuit(root, directory, meta["input_scale"], meta["output_scale"], logrows, model.input_width,
                     model.output_width, srs, srs_unsafe, time.perf_counter() - started, meta["abi"], meta["bytecode"])


def _prove_files(witness_in: str, compiled: str, pk: str, proof_out: str, srs: str, witness: str) -> float:
    """Runs in a fresh process: EZKL's witness and proof; returns that process's peak RSS (MB)."""
    import ezkl

    ezkl.gen_witness(witness_in, compiled, witness)
    ezkl.prove(witness, compiled, pk, proof_out, srs)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prove(circuit: ZkCircuit, x: np.ndarray, isolate: bool = True) -> ZkProof:
    """A proof that the circuit maps the int8 input ``x`` to its public outputs. With ``isolate``
    (the default) EZKL runs in a fresh process, so its peak memory is measured on its own."""
    ezkl = require_ezkl()
    vector = check_input(x, circuit.in_width)[0]
    work = circuit.directory / f"run-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    try:
        _write_input(work / "input.json", vector)
        files = (str(work / "input.json"), str(circuit.path("model.compiled")), str(circuit.path("pk.key")),
                 str(work / "proof.json"), str(circuit.srs_path), str(work / "witness.json"))
        if isolate:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(1) as pool:
                pool.apply(time.sleep, (0,))  # the child's own start-up is not proving time
                started = time.perf_counter()
                peak = pool.apply(_prove_files, files)
                elapsed = time.perf_counter() - started
        else:
            before = _ru_maxrss_mb()
            started = time.perf_counter()
            _prove_files(*files)
            elapsed = time.perf_counter() - started
            peak = max(_ru_maxrss_mb() - before, 0.0)
        proof_json = json.loads((work / "proof.json").read_text())
    except Exception as exc:
        raise ZkError(f"EZKL proving failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    instances = tuple(int.from_bytes(bytes.fromhex(v), "little") for v in proof_json["instances"][0])
    expected_inputs = [field_element(int(v) << circuit.input_scale) for v in vector]
    if list(instances[:circuit.in_width]) != expected_inputs:
        raise ZkError("EZKL's public inputs are not the int8 codes scaled by 2**input_scale (unexpected encoding)")
    proof = bytes.fromhex(proof_json["hex_proof"].removeprefix("0x"))
    return ZkProof(proof, instances, vector, elapsed, peak, proof_json)


def verify_offchain(circuit: ZkCircuit, proof: ZkProof) -> bool:
    """EZKL's own verifier on a proof (rebuilt from its bytes and public values)."""
    ezkl = require_ezkl()
    work = circuit.directory / f"verify-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    try:
        # EZKL's own file, with the proof bytes and public values as this object holds them now.
        data = {**proof.proof_file, "instances": [[(v % BN254_R).to_bytes(32, "little").hex() for v in proof.instances]],
                "proof": list(proof.proof), "hex_proof": "0x" + proof.proof.hex()}
        (work / "proof.json").write_text(json.dumps(data))
        try:
            return bool(ezkl.verify(str(work / "proof.json"), str(circuit.path("settings.json")),
                                    str(circuit.path("vk.key")), str(circuit.srs_path)))
        except Exception:  # EZKL raises on an invalid proof rather than returning False
            return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def attestation_for(proof: ZkProof, submitter: str, model_root: bytes, input_salt: bytes, output_salt: bytes,
                    nonce: int, job_id: bytes = b"\x00" * 32):
    """The vcp Attestation a zk proof stands for: same model root and input commitment as a
    signed one; the output commitment covers the proof's public outputs; the trace root is the
    proof's hash; the 'prover' is the account that will submit it (the registry records it under
    that account, so nobody else can use up its nonce or re-bind its job id)."""
    from vcp.attest.eip712 import Attestation
    from vcp.commit.commitments import input_commitment
    from vcp.commit.encoding import zk_output_commitment

    return Attestation(prover=submitter, model_root=model_root, input_commitment=input_commitment(input_salt, proof.input),
                       output_commitment=zk_output_commitment(output_salt, list(proof.outputs)),
                       trace_root=proof.proof_hash, job_id=job_id, nonce=nonce)


def check_zk_attestation(signed, model: QuantizedModel, circuit: ZkCircuit | None = None) -> tuple[bool, str | None]:
    """Everything a zk attestation claims, off-chain: the same bindings the registry checks, and
    EZKL's own verification of the proof. Returns (valid, reason)."""
    from vcp.commit.commitments import input_commitment
    from vcp.commit.encoding import zk_output_commitment

    att = signed.attestation
    root = ModelCommitment(model).root
    if att.model_root != root:
        return False, "model root: the attestation names another model"
    circuit = circuit or prepare_circuit(model)
    n_in, n_out = circuit.in_width, circuit.out_width
    if len(signed.instances) != n_in + n_out or len(signed.input) != n_in:
        return False, "public values: wrong count for this model"
    if input_commitment(signed.input_salt, signed.input) != att.input_commitment:
        return False, "input commitment: the input does not open it"
    if list(signed.instances[:n_in]) != [field_element(int(v) << circuit.input_scale) for v in signed.input]:
        return False, "public inputs: the proof was made for another input"
    if zk_output_commitment(signed.output_salt, list(signed.instances[n_in:])) != att.output_commitment:
        return False, "output commitment: not the proof's public outputs"
    if keccak256(signed.proof) != att.trace_root:
        return False, "trace root: not the hash of the proof"
    proof = ZkProof(signed.proof, tuple(signed.instances), signed.input, 0.0, 0.0,
                    {"protocol": None, "split": None, "pretty_public_inputs": None, "timestamp": 0,
                     "version": ezkl_version()})
    if not verify_offchain(circuit, proof):
        return False, "proof: EZKL's verifier rejects it"
    return True, None
