"""Does a value look like a credential? One detector for every place that must not keep one in
plain sight: ``proctor upstream add`` (an ``--env`` value, a stdio argument in the audit record)
and, next, the posture scanner."""

from __future__ import annotations

import math
from collections import Counter

#: prefixes of well-known credential formats (API keys, personal access tokens, cloud keys)
SECRET_PREFIXES = (
    "sk-",
    "sk_",
    "pk_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "xox",
    "AKIA",
    "glpat-",
    "eyJ",
)


def looks_like_secret(value: str) -> bool:
    """True for values that look like a credential: long, random-looking, or a known token format.

    >>> looks_like_secret("ghp_a1B2c3D4e5F6g7H8i9J0kLmN"), looks_like_secret("/usr/share/data")
    (True, False)
    """
    if len(value) < 16 or any(c.isspace() for c in value):
        return False
    if value.startswith(SECRET_PREFIXES):
        return True
    if len(value) < 20 or value.startswith(("/", "./", "~", "http://", "https://")):
        return False
    classes = sum(
        (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    )
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return classes >= 2 and entropy >= 3.5


__all__ = ["SECRET_PREFIXES", "looks_like_secret"]
