"""The tamper-evident audit log: canonical records, hash chain, signed checkpoints, verify, export."""

from __future__ import annotations

from proctor.audit.chain import GENESIS, chain_hash, checkpoint_payload
from proctor.audit.export import export_jsonl
from proctor.audit.log import AuditEntry, AuditLog, CheckpointSigner
from proctor.audit.verify import Problem, PublicKeys, VerifyReport, verify_log
from proctor.canonical import canonical_json

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "CheckpointSigner",
    "Problem",
    "PublicKeys",
    "VerifyReport",
    "canonical_json",
    "chain_hash",
    "checkpoint_payload",
    "export_jsonl",
    "verify_log",
]
