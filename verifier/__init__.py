"""The verifier side of vcp: check attestations off-chain (re-execution) and on-chain (registry).

    from verifier import verify_files
    report = verify_files(Path("att.json"), model)
    assert report.valid, report.reason
"""

from verifier._offchain import CHECKS, VerificationReport, verify_attestation, verify_files
from verifier._onchain import OnchainStatus, check_onchain

__all__ = ["CHECKS", "VerificationReport", "verify_attestation", "verify_files", "OnchainStatus", "check_onchain"]
