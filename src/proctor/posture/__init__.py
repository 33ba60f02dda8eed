"""Posture (empty seat): scanners and findings about the workspace itself.

What will live here: scanners (long-lived secrets, shared keys, agents without an owner, ...),
their findings with severity and framework IDs (OWASP, NIST, CSA), and reports. Posture reads the
other stages' records; no stage depends on it.
"""

__all__: list[str] = []
