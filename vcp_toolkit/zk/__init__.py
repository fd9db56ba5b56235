"""The zk baseline's circuit side: the same fixed-point model as an EZKL (Halo2 zk-SNARK) circuit,
set up offline. Proving is ``prover.prove_zk``; checking is ``verifier.check_zk_attestation``.

Install with ``pip install 'vcp-toolkit[zk]'``. Everything runs locally, one module per job:

* ``circuit``: the model is exported to ONNX taking vcp's int8 input codes (vcp.model.onnx_io.export_onnx),
  so the proof's public inputs are exactly the committed input times ``2**input_scale``; settings are
  calibrated, the circuit compiled and its keys set up;
* ``srs``: the structured reference string is GENERATED LOCALLY (``ezkl.gen_srs``): fine for measuring,
  UNSAFE for production, where whoever ran the generation could forge proofs. Pass a real one
  (e.g. from a public ceremony) with ``srs=``/``--srs``;
* ``cache``: settings, keys and the generated verifier are cached per model root under ``$VCP_ZK_CACHE``
  (default ``~/.cache/vcp/zk``), never in git: proving keys run to hundreds of MB;
* ``verifier_contract``: ``create_evm_verifier`` writes ``Verifier.sol`` and then tries to download a
  native solc, which fails offline; the file is complete, so vcp compiles it with the project's pinned solcjs;
* ``proof``: the proof and its public values, as the prover makes them and the verifier checks them;
* ``backend``: EZKL itself (import, version, input file, error text);
* ``onnx_file``: EZKL's stages on an ONNX file as it is (float input, EZKL's own quantization), for
  models vcp does not export itself (the built-in ViT, bench/vit_zk.py);
* ``guarded``: one stage in a child process under a time limit and a memory ceiling.
"""

from vcp_toolkit.errors import ZkError
from vcp_toolkit.zk.backend import INSTALL_HINT, ezkl_version, require_ezkl
from vcp_toolkit.zk.cache import cache_root
from vcp_toolkit.zk.circuit import CircuitModel, CircuitSize, ZkCircuit, circuit_size, prepare_circuit
from vcp_toolkit.zk.proof import ZkProof, decode_field
from vcp_toolkit.zk.srs import UNSAFE_SRS_NOTE
from vcp_toolkit.zk.verifier_contract import compile_verifier

__all__ = ["INSTALL_HINT", "UNSAFE_SRS_NOTE", "CircuitModel", "CircuitSize", "ZkCircuit", "ZkError", "ZkProof",
           "cache_root", "circuit_size", "compile_verifier", "decode_field", "ezkl_version", "prepare_circuit",
           "require_ezkl"]
