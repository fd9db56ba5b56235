"""`vcp bench`: every trust model on the same models and the same chains, in one run."""

from __future__ import annotations

import itertools
import platform
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from vcp_toolkit.prover import Prover, honest, prove_batch
from vcp_toolkit import __version__
from vcp_toolkit.prover import cheats
from vcp_toolkit.bench.costs import Prices, amortized, floor_and_ratio, spread
from vcp_toolkit.chain.hardfork import hardfork_for
from vcp_toolkit.chain.nodes import HARDFORK, Chain, open_chain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender, calldata
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp_toolkit.bench.disputes import dispute_gas
from vcp_toolkit.attest.files import AttestationFile, BatchFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.model.synthetic import random_inputs, random_model
from vcp_toolkit.verifier import Claim, evidence_for, find_fault, verify_attestation, verify_batch

DEMO_WIDTHS = (64, 32, 10)
BENCH_PARAMS = OptimisticParams(challenge_window=20, reveal_window=10, answer_window=50)


@dataclass(frozen=True)
class BenchConfig:
    models: tuple[tuple[int, ...], ...]
    batch_sizes: tuple[int, ...]
    chains: tuple[str, ...]
    dispute_widths: tuple[int, ...]
    repeats: int
    warmup: int
    throughput_singles: int
    throughput_batches: int
    zk_models: tuple[tuple[int, ...], ...] = ()
    zk_repeats: int = 1
    prices: Prices = field(default_factory=Prices)
    hardfork: str | None = None  # the schedule of every chain's rows; None: the newest each chain runs
    schedules: tuple[str, ...] = ("shanghai", "prague", "osaka")  # the same transactions on each, side by side
    cnn_disputes: tuple[str, ...] = ()  # built-in graphs (CNNs, vit) whose per-operator fraud proofs are measured
    cnn_inference: tuple[str, ...] = ()  # built-in graphs timed against onnxruntime (batch 256, one core)
    cnn_zk: tuple[str, ...] = ()  # built-in graphs proven with EZKL (minutes and GBs: full run only)

    def hardforks(self) -> dict[str, str]:
        """The schedule each chain of the run measures on (refuses one a chain cannot run)."""
        return {kind: hardfork_for(kind, self.hardfork).name for kind in self.chains}


QUICK = BenchConfig(models=((64, 16, 10), DEMO_WIDTHS, (784, 128, 10)), batch_sizes=(1, 16, 256, 1024),
                    chains=("embedded", "anvil"), dispute_widths=(16, 64, 256, 1024), repeats=5, warmup=1,
                    throughput_singles=200, throughput_batches=5, zk_models=((64, 16, 10),), zk_repeats=1,
                    cnn_inference=("lenet", "vit"), cnn_disputes=("lenet", "vit"))
FULL = BenchConfig(models=((64, 16, 10), DEMO_WIDTHS, (64, 64, 64, 10), (784, 128, 10), (784, 1024, 256, 10)),
                   batch_sizes=(1, 4, 16, 64, 256, 1024, 4096), chains=("embedded", "anvil", "ganache"),
                   dispute_widths=(16, 64, 256, 1024, 4096), repeats=11, warmup=2, throughput_singles=500,
                   throughput_batches=10, zk_models=((64, 16, 10), (64, 64, 64, 10), (784, 128, 10)), zk_repeats=2,
                   cnn_disputes=("lenet", "rescnn", "vit"), cnn_inference=("lenet", "rescnn", "vit"),
                   cnn_zk=("lenet", "vit"))


def model_for(widths: tuple[int, ...]) -> QuantizedModel:
    return demo_model() if tuple(widths) == DEMO_WIDTHS else random_model(list(widths), seed=sum(widths))


def _times(fn: Callable[[], Any], repeats: int, warmup: int) -> tuple[dict[str, float], list[Any]]:
    results = [fn() for _ in range(warmup)]
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        results.append(fn())
        samples.append(time.perf_counter() - t0)
    return spread(samples), results[warmup:]


def environment(hardforks: dict[str, str] | None = None) -> dict[str, Any]:
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    from vcp_toolkit.contracts import load_artifact

    return {
        "vcp": __version__, "python": platform.python_version(), "platform": platform.platform(),
        "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
        "numpy": version("numpy"), "web3": version("web3"), "py-evm": version("py-evm"),
        "eth-tester": version("eth-tester"), "ezkl": version("ezkl"),
        "solc": load_artifact("AttestationRegistry")["compiler"]["version"], "evm_version": HARDFORK,
        "hardforks": hardforks or {},
    }


@dataclass(frozen=True)
class _Subject:
    """One model under measurement: registered on both contracts, with its prover and inputs."""

    model: QuantizedModel
    commitment: ModelCommitment
    prover: Prover
    inputs: np.ndarray
    plain: dict[str, float]  # plain inference of one input (spread)


class ChainBench:
    """Contracts deployed once per chain; one authorised prover key."""

    def __init__(self, chain: Chain, config: BenchConfig) -> None:
        self.chain = chain
        self.config = config
        self.operator = Sender(chain)
        self._zk_nonces = itertools.count(1)  # zk records are keyed by (submitter, nonce)
        self.zk_proofs: list[tuple] = []  # (widths, circuit, proof, input) for the schedules pass
        self.operator.ensure_funded()
        self.registry, self.registry_deploy = Registry.deploy(self.operator)
        self.optimistic, self.optimistic_deploy = OptimisticInference.deploy(self.operator, BENCH_PARAMS)
        self.key = SigningKey.generate()
        self.registry.set_prover(self.operator, self.key.address)
        self.fresh_accounts()

    def fresh_accounts(self) -> None:
        """New requester, prover and challenger accounts: what the slash and the payouts write is
        then new storage, the worst case, for every model's optimistic rows (as `vcp estimate`)."""
        self.requester, self.prover_account, self.challenger = (Sender(self.chain) for _ in range(3))
        for s in (self.requester, self.prover_account, self.challenger):
            s.ensure_funded()

    def row(self, mode: str, model: QuantizedModel, batch: int, **values: Any) -> dict[str, Any]:
        gas = values.get("gas_per_tx")
        base = {"chain": self.chain.kind, "hardfork": str(self.chain.hardfork), "mode": mode, "model": "->".join(map(str, model.widths)),
                "params": model.param_count, "batch": batch}
        if gas is not None:
            per = amortized(gas, batch)
            base.update(gas_per_inference=per, cost_eth_per_inference=self.config.prices.eth(per),
                        cost_usd_per_inference=self.config.prices.usd(per))
        return {**base, **values}

    def run_model(self, widths: tuple[int, ...]) -> list[dict[str, Any]]:
        subject = self._subject(widths)
        rows = [self.signed_single(subject)]
        # Every batch size runs for every model: dense layers are exact on float BLAS
        # (vcp_toolkit.model.kernels.exact_matmul), so even the widest model's largest batch is quick.
        rows.extend(self.signed_batched(subject, n) for n in self.config.batch_sizes)
        x = subject.inputs[0]
        salt = secrets.token_bytes(32)
        self.fresh_accounts()
        rows.append(self.optimistic_happy(subject, x, salt))
        rows.append(self.optimistic_dispute(subject, x, salt))
        return rows

    def _subject(self, widths: tuple[int, ...]) -> _Subject:
        """The model registered on both contracts, its prover, its inputs and its plain inference time."""
        cfg = self.config
        model = model_for(widths)
        commitment = ModelCommitment(model)
        self.registry.register_model(self.operator, commitment.root)
        self.optimistic.register_model(self.operator, commitment)
        prover = Prover(model, self.key, self.registry.domain)
        inputs = random_inputs(model, max(cfg.batch_sizes), seed=7)
        plain, _ = _times(lambda: model.infer(inputs[:1]), cfg.repeats * 5, cfg.warmup)
        return _Subject(model, commitment, prover, inputs, plain)

    def signed_single(self, s: _Subject) -> dict[str, Any]:
        """Signed single attestations: prove, verify off-chain, submit one per transaction."""
        cfg, model, inputs = self.config, s.model, s.inputs
        counter = iter(range(10**9))
        prove_t, proofs = _times(lambda: s.prover.prove(inputs[next(counter) % len(inputs)]), cfg.repeats, cfg.warmup)
        split = {k: spread([getattr(p.timings, k) for p in proofs])["median"]
                 for k in ("inference_s", "commit_s", "sign_s")}
        signed = [AttestationFile(p.attestation, p.domain, p.signature, model.name, model.param_count, "-", "0" * 64)
                  for p in proofs]
        verify_t, reports = _times(lambda: verify_attestation(signed[0], proofs[0].bundle, model,
                                                              model_commitment=s.commitment), cfg.repeats, cfg.warmup)
        assert all(r.valid for r in reports)
        subs = [self.registry.submit(self.operator, p.attestation, p.signature) for p in proofs]
        gas = int(np.median([sub.tx.gas_used for sub in subs]))
        floor, ratio = floor_and_ratio(subs[0].tx.gas_used, subs[0].tx.calldata)
        return self.row(
            "signed_single", model, 1, plain_inference_s=s.plain["median"], prove_s=prove_t,
            prover_split_s=split, verify_offchain_s=verify_t, gas_per_tx=gas, calldata_bytes=len(subs[0].tx.calldata),
            gas_floor=floor, gas_floor_ratio=subs[0].tx.gas_used / floor,
            latency_s=spread([sub.tx.latency_s for sub in subs]),
            overhead_vs_plain=prove_t["median"] / s.plain["median"])

    def signed_batched(self, s: _Subject, n: int) -> dict[str, Any]:
        """Signed batches of ``n``: prove, verify off-chain, submit, and one inclusion check on-chain."""
        cfg, model, inputs = self.config, s.model, s.inputs
        plain_b, _ = _times(lambda: model.infer(inputs[:n]), cfg.repeats, cfg.warmup)
        prove_b, batches = _times(lambda: prove_batch(s.prover, inputs[:n]), cfg.repeats, cfg.warmup)
        split_b = {k: spread([getattr(b.timings, k) for b in batches])["median"]
                   for k in ("inference_s", "commit_s", "sign_s")}
        first = batches[0]
        bfile = BatchFile(first.batch, first.domain, first.signature, model.name, "-", "0" * 64)
        verify_b, checks = _times(lambda: verify_batch(bfile, first.bundle, model, model_commitment=s.commitment),
                                  cfg.repeats, cfg.warmup)
        assert all(c.valid for c in checks)
        subs = [self.registry.submit_batch(self.operator, b.batch, b.signature) for b in batches]
        record, proof = first.record_proof(n - 1)
        inclusion = self.registry.verify_record_tx(self.operator, first.batch, record, n - 1, proof)
        gas_b = int(np.median([sub.tx.gas_used for sub in subs]))
        floor_b, _ = floor_and_ratio(subs[0].tx.gas_used, subs[0].tx.calldata)
        return self.row(
            "signed_batched", model, n, plain_inference_s=s.plain["median"], prove_s=prove_b,
            prover_split_s=split_b, verify_offchain_s=verify_b, verify_to_prove=verify_b["median"] / prove_b["median"],
            gas_per_tx=gas_b, calldata_bytes=len(subs[0].tx.calldata), gas_floor=floor_b,
            gas_floor_ratio=subs[0].tx.gas_used / floor_b, inclusion_check_gas=inclusion.gas_used,
            latency_s=spread([sub.tx.latency_s for sub in subs]),
            attested_per_s=n / prove_b["median"], plain_batch_inference_s=plain_b,
            overhead_vs_plain=prove_b["median"] / plain_b["median"])

    def optimistic_happy(self, s: _Subject, x: np.ndarray, salt: bytes) -> dict[str, Any]:
        """Optimistic, no dispute: open, answer, check off-chain, finalize after the window."""
        cfg, model, commitment = self.config, s.model, s.commitment
        answer_t, answers = _times(lambda: honest(model, x, salt), cfg.repeats, cfg.warmup)
        answer = answers[0]
        job_id, open_tx = self.optimistic.open_job(self.requester, commitment.root, input_commitment(salt, x), 10**15)
        submit_tx = self.optimistic.submit_result(self.prover_account, job_id,
                                                  output_commitment(answer.output_salt, answer.trace[-1]),
                                                  trace_root(answer.trace))
        job = self.optimistic.job(job_id)
        claim = Claim(job.input_commitment, job.output_commitment, job.trace_root)
        check_t, _ = _times(lambda: find_fault(model, claim, answer.trace, answer.input_salt, answer.output_salt,
                                               (x, salt)), cfg.repeats, cfg.warmup)
        self.chain.mine(BENCH_PARAMS.challenge_window + 1)
        finalize_tx = self.optimistic.finalize(self.prover_account, job_id)
        happy_gas = open_tx.gas_used + submit_tx.gas_used + finalize_tx.gas_used
        return self.row(
            "optimistic_happy", model, 1, plain_inference_s=s.plain["median"], prove_s=answer_t,
            verify_offchain_s=check_t, gas_per_tx=happy_gas,
            gas_breakdown={"open_job": open_tx.gas_used, "submit_result": submit_tx.gas_used,
                           "finalize": finalize_tx.gas_used},
            calldata_bytes=len(submit_tx.calldata), finality_blocks=BENCH_PARAMS.challenge_window + 1,
            overhead_vs_plain=answer_t["median"] / s.plain["median"])

    def optimistic_dispute(self, s: _Subject, x: np.ndarray, salt: bytes) -> dict[str, Any]:
        """Optimistic, disputed: a wrong hidden layer, caught by one fraud proof."""
        model, commitment = s.model, s.commitment
        job_id, _ = self.optimistic.open_job(self.requester, commitment.root, input_commitment(salt, x), 10**15)
        lie = cheats.wrong_hidden_layer(model, x, salt)
        self.optimistic.submit_result(self.prover_account, job_id, output_commitment(lie.output_salt, lie.trace[-1]),
                                      trace_root(lie.trace))
        job = self.optimistic.job(job_id)
        fault = find_fault(model, Claim(job.input_commitment, job.output_commitment, job.trace_root), lie.trace,
                           lie.input_salt, lie.output_salt)
        outcome = self.optimistic.prove(self.challenger, job_id, evidence_for(fault, commitment, lie.trace))
        self.optimistic.cancel_job(self.requester, job_id)
        return self.row(
            "optimistic_dispute", model, 1, gas_per_tx=outcome.tx.gas_used, calldata_bytes=len(outcome.tx.calldata),
            fraud_proven=outcome.fraud, disputed_width=model.layers[fault.layer].in_width, rounds=1)

    def zk_row(self, widths: tuple[int, ...], repeats: int) -> dict[str, Any]:
        """The same model proven with EZKL and verified by this chain's registry (one circuit per
        model, cached; setup time is reported when it ran in this process)."""
        model = model_for(widths)
        figures = self.zk_dense_figures(model, repeats)
        return self.row("zk", model, 1, **figures)

    def zk_dense_figures(self, model: QuantizedModel, repeats: int = 1) -> dict[str, Any]:
        """EZKL on a dense model, proven on a random input (its proof kept for the schedules pass)."""
        from vcp_toolkit import zk

        x = random_inputs(model, 1, seed=11)[0]
        circuit = zk.prepare_circuit(model)
        figures, proof = self._zk_figures(circuit, x, repeats, lambda: model.infer(x[None, :]))
        self.zk_proofs.append((tuple(model.widths), circuit, proof, x))
        return figures

    def zk_graph_figures(self, graph) -> dict[str, Any]:
        """EZKL on an operator graph (a CNN), calibrated and proven on a held-out MNIST image."""
        from vcp_toolkit import zk
        from vcp_toolkit.model.datasets import load_mnist_split

        image = graph.quantize_input(load_mnist_split().x_test[:1])
        circuit = zk.prepare_circuit(graph, calibration=image.reshape(1, -1))
        figures, _ = self._zk_figures(circuit, image.reshape(-1), 1, lambda: graph.run(image))
        return figures

    def _zk_figures(self, circuit, x: np.ndarray, repeats: int, plain: Callable[[], Any]) -> tuple[dict, Any]:
        """Prove ``x`` ``repeats`` times, verify off-chain, record through the registry and call the
        verifier alone: the zk row's figures and the first proof."""
        from vcp_toolkit.prover import prove_zk, zk_attestation_for
        from vcp_toolkit.verifier import verify_zk_proof
        from vcp_toolkit.commit.encoding import int8_bytes

        proofs = [prove_zk(circuit, x) for _ in range(repeats)]
        verify_t, _ = _times(lambda: verify_zk_proof(circuit, proofs[0]), max(repeats, 3), 0)
        self.registry.register_model(self.operator, circuit.model_root)
        deployed = self.registry.deploy_zk_verifier(self.operator, circuit.verifier_bytecode)
        self.registry.set_zk_verifier(self.operator, circuit.model_root, deployed.contract_address,
                                      circuit.input_scale, circuit.in_width, circuit.out_width)
        salts = secrets.token_bytes(32), secrets.token_bytes(32)
        att = zk_attestation_for(proofs[0], self.operator.address, circuit.model_root, *salts,
                                 nonce=next(self._zk_nonces))
        sub = self.registry.submit_zk(self.operator, att, proofs[0].proof, list(proofs[0].instances), int8_bytes(x),
                                      *salts)
        # EZKL's verifier alone, as docs/anchors.md records it (without the registry's binding checks).
        verifier = self.chain.w3.eth.contract(abi=circuit.verifier_abi)
        call = verifier.functions.verifyProof(proofs[0].proof, list(proofs[0].instances))
        alone = self.operator.transact(to=deployed.contract_address, data=calldata(call),
                                       action="calling the zk verifier")
        plain_t, _ = _times(plain, 25, 2)
        prove = spread([p.prove_s for p in proofs])
        return dict(
            plain_inference_s=plain_t["median"], prove_s=prove, verify_offchain_s=verify_t,
            gas_per_tx=sub.tx.gas_used, calldata_bytes=len(sub.tx.calldata), proof_bytes=len(proofs[0].proof),
            raw="0x" + sub.tx.raw.hex(),
            verifier_deploy_gas=deployed.gas_used, verifier_only_gas=alone.gas_used, setup_s=circuit.setup_s or None,
            logrows=circuit.logrows, rows=circuit.rows,
            verifier_bytes=len(bytes.fromhex(circuit.verifier_bytecode.removeprefix("0x"))), prove_peak_rss_mb=max(p.peak_rss_mb for p in proofs),
            proving_key_bytes=circuit.pk_bytes, srs="local (unsafe)" if circuit.srs_unsafe else "given",
            overhead_vs_plain=prove["median"] / plain_t["median"]), proofs[0]

    def throughput(self, singles: int, batches: int, batch_size: int = 1024) -> list[dict[str, Any]]:
        """Landed end to end (prove, commit, sign, submit, receipt), submissions pipelined."""
        model = demo_model()
        if DEMO_WIDTHS not in {tuple(widths) for widths in self.config.models}:  # run_model did not register it
            self.registry.register_model(self.operator, ModelCommitment(model).root)
        prover = Prover(model, self.key, self.registry.domain)
        inputs = random_inputs(model, max(singles, batch_size), seed=9)
        started = time.perf_counter()
        proofs = [prover.prove(inputs[i]) for i in range(singles)]
        calls = [(self.registry.address, self.registry.submit_calldata(p.attestation, p.signature)) for p in proofs]
        self.operator.transact_many(calls, "submitting attestations")
        single_rate = singles / (time.perf_counter() - started)
        started = time.perf_counter()
        made = [prove_batch(prover, inputs[:batch_size]) for _ in range(batches)]
        self.operator.transact_many([(self.registry.address, self.registry.submit_batch_calldata(b.batch, b.signature))
                                     for b in made], "submitting batches")
        batch_rate = batches * batch_size / (time.perf_counter() - started)
        return [{"chain": self.chain.kind, "mode": "throughput", "model": "->".join(map(str, model.widths)),
                 "singles_landed": singles, "single_attestations_per_s": single_rate,
                 "batches_landed": batches, "batch": batch_size, "batched_inferences_per_s": batch_rate}]


def run_bench(config: BenchConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the sweep; returns {environment, config, rows, disputes, targets, anchors}."""
    from vcp_toolkit.bench.anchors import CITED_VERIFY_GAS, EZKL_MEASURED
    from vcp_toolkit.bench.estimate_check import estimate_checks
    from vcp_toolkit.bench.targets import evaluate_targets

    note = progress or (lambda _msg: None)
    rows: list[dict[str, Any]] = []
    disputes: list[dict[str, Any]] = []
    deploy: dict[str, Any] = {}
    started = time.perf_counter()
    hardforks = config.hardforks()  # refused before anything starts
    for kind in config.chains:
        with open_chain(kind, hardfork=hardforks[kind]) as chain:
            bench = ChainBench(chain, config)
            deploy[kind] = {"registry": bench.registry_deploy.gas_used, "optimistic": bench.optimistic_deploy.gas_used}
            for widths in config.models:
                note(f"{kind}: model {'->'.join(map(str, widths))}")
                rows.extend(bench.run_model(widths))
            note(f"{kind}: throughput")
            rows.extend(bench.throughput(config.throughput_singles, config.throughput_batches))
            note(f"{kind}: dispute gas by width")
            disputes.extend({"chain": kind, **row} for row in dispute_gas(chain, list(config.dispute_widths)))
    zk_proofs: list[tuple] = []
    zk = _zk_rows(config, note, rows, zk_proofs)
    schedules = _schedule_rows(config, note, tuple(zk_proofs))
    cnn = _cnn_disputes(config, note)
    cnn_runs = _cnn_runs(config, note)
    da = _da_rows(config, note)
    result = {
        "environment": environment(hardforks),
        "config": {**asdict(config), "prices": asdict(config.prices)},
        "deploy_gas": deploy,
        "rows": rows,
        "disputes": disputes,
        "zk": zk,
        "schedules": schedules,
        "cnn_disputes": cnn,
        "cnn": cnn_runs,
        "da": da,
        "anchors": {"ezkl_measured": {"->".join(map(str, k)): v for k, v in EZKL_MEASURED.items()},
                    "cited_verify_gas": CITED_VERIFY_GAS},
    }
    note("estimates: vcp estimate against what this run measured")
    result["estimates"] = estimate_checks(result, model_for, config.batch_sizes)
    result["wall_time_s"] = time.perf_counter() - started
    result["targets"] = evaluate_targets(result)
    return result


def _zk_rows(config: BenchConfig, note: Callable[[str], None], rows: list[dict[str, Any]],
             proofs: list[tuple]) -> dict[str, Any]:
    """The zk models proven on the first chain that is not the embedded one (rows appended to
    ``rows``, the proofs to ``proofs``); returns what the report says about zk in this run."""
    from vcp_toolkit.zk import ezkl_version

    zk_chain = next((c for c in config.chains if c != "embedded"), config.chains[0] if config.chains else None)
    if ezkl_version() is None:
        return {"available": False, "why": "EZKL is not installed (pip install 'vcp-toolkit[zk]'); its figures from "
                                           "docs/anchors.md are shown as anchors"}
    if not config.zk_models or zk_chain is None:
        return {"available": True, "why": "no zk models in this configuration"}
    zk = {"available": True, "ezkl": ezkl_version(), "chain": zk_chain,
          "why": f"EZKL {ezkl_version()} measured in this run on {zk_chain}"}
    with open_chain(zk_chain, hardfork=config.hardforks()[zk_chain]) as chain:
        bench = ChainBench(chain, config)
        for widths in config.zk_models:
            note(f"{zk_chain}: zk proof of {'->'.join(map(str, widths))}")
            rows.append(bench.zk_row(widths, config.zk_repeats))
        proofs.extend(bench.zk_proofs)
    return zk


def _cnn_disputes(config: BenchConfig, note: Callable[[str], None]) -> dict[str, Any]:
    """Per built-in CNN of ``config.cnn_disputes``: each operator's costliest fraud proof and a
    reveal, on the embedded chain (gas is the same on every chain of one schedule)."""
    from vcp_toolkit.bench.graph_disputes import graph_dispute_gas

    if not config.cnn_disputes:
        return {}
    note("embedded: CNN fraud proofs per operator")
    hardfork = config.hardforks()["embedded"] if "embedded" in config.chains else None
    with open_chain("embedded", hardfork=hardfork) as chain:
        schedule = chain.hardfork.name
        result = graph_dispute_gas(chain, config.cnn_disputes)
    return {"chain": "embedded", "schedule": schedule, **result}


def _da_rows(config: BenchConfig, note: Callable[[str], None]) -> list[dict[str, Any]]:
    """Each model's data published in calldata (DataAnchor) on the embedded chain, and in blobs
    (BlobAnchor) on Anvil when the run has it: the one chain vcp starts that carries blobs."""
    from vcp_toolkit.bench.da_costs import da_rows

    hardfork = config.hardforks()["embedded"] if "embedded" in config.chains else None
    with open_chain("embedded", hardfork=hardfork) as chain:
        if "anvil" not in config.chains:
            note("embedded: data availability in calldata, per model (no Anvil in this run: no blobs)")
            return da_rows(chain, config.models, config.cnn_disputes)
        note("embedded and anvil: data availability in calldata and in blobs, per model")
        with open_chain("anvil", hardfork=config.hardforks()["anvil"]) as anvil:
            return da_rows(chain, config.models, config.cnn_disputes, blob_chain=anvil)


def _cnn_runs(config: BenchConfig, note: Callable[[str], None]) -> dict[str, Any]:
    """CNN inference against onnxruntime, and EZKL on the CNNs of ``config.cnn_zk`` on the zk chain."""
    from vcp_toolkit.bench.cnn_runs import cnn_rows
    from vcp_toolkit.zk import ezkl_version

    if not (config.cnn_inference or config.cnn_zk):
        return {}
    zk_chain = next((c for c in config.chains if c != "embedded"), None)
    if not config.cnn_zk or zk_chain is None or ezkl_version() is None:
        return cnn_rows(config.cnn_inference, (), config.repeats, note, None)
    with open_chain(zk_chain, hardfork=config.hardforks()[zk_chain]) as chain:
        bench = ChainBench(chain, config)
        result = cnn_rows(config.cnn_inference, config.cnn_zk, config.repeats, note, bench.zk_graph_figures)
    return {**result, "zk_chain": zk_chain}


def _schedule_rows(config: BenchConfig, note: Callable[[str], None], zk_proofs: tuple = ()) -> dict[str, Any]:
    """The same transactions of every mode on each schedule of ``config.schedules`` (gas only)."""
    from vcp_toolkit.bench.schedules import measure_schedules

    if not config.schedules:
        return {}
    return measure_schedules([(tuple(w), model_for(tuple(w))) for w in config.models], config.batch_sizes,
                             config.chains, config.schedules, config.dispute_widths, note, zk_proofs)
