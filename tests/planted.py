"""Secret values the suite plants in secret stores, upstreams and providers.

``tests/test_zz_leak_scan.py`` runs last and searches every log line and audit record the suite
produced for each of these: none may appear anywhere. A test that plants a value imports it from
here (or registers a generated one with :func:`remember`) so the scan knows what to look for.
"""

from __future__ import annotations

#: an upstream API key, injected by the gateway as an HTTP header or a stdio environment variable
API_KEY = "planted-api-key-7c2e91d04b"
#: a second one, for a stdio upstream
STDIO_API_KEY = "planted-stdio-key-55aa10f3e8"

_generated: set[str] = set()


def remember(value: str) -> str:
    """Add a value generated at run time (a role password, a signed token) to the scan."""
    if len(value) >= 12:
        _generated.add(value)
    return value


def planted() -> set[str]:
    """Every value the scan must not find."""
    return {API_KEY, STDIO_API_KEY, *_generated}
