"""What an agent's configuration holds, value by value: static secrets, long-lived tokens, refresh
tokens, a person's credentials, inherited service accounts.

The detectors are the ones Proctor already keeps: detect-secrets' regex detectors
(:func:`proctor.flow.detect.find_credentials`, shared with the flow labels) and the entropy and
prefix check of :func:`proctor.credentials.detect.looks_like_secret` (shared with ``proctor
upstream add``). Posture adds what only a scanner needs: JWT decoding (expiry), refresh tokens,
personal and inherited identities. A value is never returned: a hit names it by fingerprint.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from proctor.credentials.detect import looks_like_secret
from proctor.flow.detect import find_credentials, fingerprint

#: a token valid for longer than this (or with no expiry) is long-lived
LONG_LIVED_S = 30 * 86400

_SECRET_NAME = re.compile(r"(key|token|secret|passw(or)?d|pwd|credential|auth|bearer|cookie)", re.I)
_REFRESH_NAME = re.compile(r"refresh[_-]?token", re.I)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_PLACEHOLDER = re.compile(
    r"^(\$\{?[A-Za-z_]|<[^>]*>$|your[-_ ]|change[-_]?me|x{4,}|\*{3,}|env:|secret:|op://)", re.I
)
#: a placeholder after a key's real prefix: ``sk_live_xxxxxxxx``, ``ghp_XXXX…``, ``sk-your-key-here``,
#: ``sk-...``, ``<token>``, ``replace_me`` (a random key holds no run of six x's)
_PLACEHOLDER_BODY = re.compile(
    r"(x{6,}|\*{3,}|\.{3}|<[^>]*>|(^|[-_.\s])your[-_ ]|replace[-_ ]?me|change[-_]?me)", re.I
)
#: personal access tokens of a person's GitHub account (classic, fine-grained, OAuth user tokens)
_PERSONAL_PREFIXES = (
    ("ghp_", "GitHub personal access token"),
    ("github_pat_", "GitHub fine-grained PAT"),
    ("gho_", "GitHub OAuth user token"),
    ("glpat-", "GitLab personal access token"),
)
#: a person's cloud profile: variable names, and paths to a person's credential files
_PERSONAL_VARS = {
    "AWS_PROFILE": "AWS named profile",
    "AWS_DEFAULT_PROFILE": "AWS named profile",
    "AWS_SHARED_CREDENTIALS_FILE": "AWS shared credentials file",
    "CLOUDSDK_CONFIG": "gcloud user configuration",
    "CLOUDSDK_CORE_ACCOUNT": "gcloud user account",
    "AZURE_CONFIG_DIR": "Azure CLI user profile",
}
_PERSONAL_PATHS = (
    (".aws/credentials", "AWS shared credentials file"),
    ("gcloud/application_default_credentials.json", "gcloud user application-default credentials"),
    ("gcloud/legacy_credentials", "gcloud user credentials"),
    ("gcloud/credentials.db", "gcloud user credentials"),
    (".azure/", "Azure CLI user profile"),
)
#: an identity the agent inherits from the host: cloud default credentials, roles, kubeconfig
_INHERITED_VARS = {
    "GOOGLE_APPLICATION_CREDENTIALS": "Google service-account key file",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "AWS container (ECS task) role",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "AWS container role",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "AWS container role",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "AWS web-identity (IRSA) role",
    "AWS_ROLE_ARN": "AWS role",
    "ECS_CONTAINER_METADATA_URI": "AWS ECS task metadata",
    "ECS_CONTAINER_METADATA_URI_V4": "AWS ECS task metadata",
    "AZURE_FEDERATED_TOKEN_FILE": "Azure workload identity",
    "KUBECONFIG": "Kubernetes kubeconfig",
}
_INHERITED_PATHS = (
    ("/var/run/secrets/kubernetes.io/serviceaccount", "mounted Kubernetes service-account token"),
    ("/var/run/secrets/eks.amazonaws.com/serviceaccount", "mounted EKS service-account token"),
    ("/run/secrets/kubernetes.io/serviceaccount", "mounted Kubernetes service-account token"),
    (".kube/config", "Kubernetes kubeconfig"),
    ("169.254.169.254", "cloud instance metadata (instance role)"),
    ("169.254.170.2", "AWS container credentials endpoint"),
)


@dataclass(frozen=True)
class Hit:
    """One problem with one value: ``rule`` is a :data:`proctor.posture.findings.RULES` id,
    ``what`` says what it is (never the value), ``fp`` fingerprints secrets (shared-key matching)."""

    rule: str
    what: str
    fp: str | None = None


def _b64json(part: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, decoded without verifying it (only its lifetime is read)."""
    parts = token.split(".")
    if len(parts) != 3 or _b64json(parts[0]) is None:
        return None
    return _b64json(parts[1])


def _jwt_hits(name: str, token: str, now: float) -> list[Hit]:
    claims = jwt_claims(token)
    if claims is None:
        return []
    fp = fingerprint(token)
    hits: list[Hit] = []
    kind = str(claims.get("typ") or claims.get("token_use") or claims.get("token_type") or "").lower()
    if "refresh" in kind or _REFRESH_NAME.search(name):
        hits.append(Hit("secret.refresh-token", f"JWT refresh token {fp}", fp))
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        hits.append(Hit("secret.long-lived-token", f"JWT without expiry (`exp`) {fp}", fp))
    else:
        iat = claims.get("iat")
        start = float(iat) if isinstance(iat, int | float) else now
        life = float(exp) - max(start, 0.0)
        if exp > now and (life > LONG_LIVED_S or exp - now > LONG_LIVED_S):
            days = int(max(life, exp - now) // 86400)
            hits.append(Hit("secret.long-lived-token", f"JWT valid for {days} days {fp}", fp))
    return hits


def placeholder(value: str) -> bool:
    """A reference or a placeholder, not a value (``${TOKEN}``, ``<your key>``, ``changeme``)."""
    v = value.strip()
    return not v or bool(_PLACEHOLDER.match(v)) or bool(_PLACEHOLDER_BODY.search(v))


def inspect_value(name: str, value: str, now: float) -> list[Hit]:
    """What is wrong with ``name=value`` in an agent's configuration or environment. ``name`` is
    the variable, header or argument name (or a JSON path ending in one)."""
    hits: list[Hit] = []
    base = name.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    upper = base.upper()
    v = value.strip()
    if upper in _PERSONAL_VARS and v:
        hits.append(Hit("credential.personal", f"{_PERSONAL_VARS[upper]} `{base}` referenced"))
    elif upper in _INHERITED_VARS and v:
        what = _INHERITED_VARS[upper]
        if upper == "GOOGLE_APPLICATION_CREDENTIALS" and "application_default_credentials" in v:
            hits.append(Hit("credential.personal", "gcloud user application-default credentials referenced"))
        else:
            hits.append(Hit("credential.inherited-service-account", f"{what} `{base}` passed to the agent"))
    else:
        for needle, what in _PERSONAL_PATHS:
            if needle in v:
                hits.append(Hit("credential.personal", f"{what} referenced"))
                break
        else:
            for needle, what in _INHERITED_PATHS:
                if needle in v:
                    hits.append(Hit("credential.inherited-service-account", f"{what} referenced"))
                    break
    if placeholder(v) or len(v) < 8:
        return hits
    # a value may be `Bearer <token>` or an argument `--key=<token>`: look at each word
    for word in re.split(r"[\s=,;]+", v):
        hits.extend(_secret_hits(name, word, now))
    return hits


def _secret_hits(name: str, value: str, now: float) -> list[Hit]:
    if len(value) < 8 or placeholder(value):
        return []
    jwt = _JWT.fullmatch(value)
    if jwt:
        # a JWT that expires soon (or has expired) is not a standing secret
        return _jwt_hits(name, value, now)
    fp = fingerprint(value)
    for prefix, what in _PERSONAL_PREFIXES:
        if value.startswith(prefix) and len(value) >= 20:
            return [Hit("credential.personal", f"{what} ({prefix}…) {fp}", fp)]
    if _REFRESH_NAME.search(name):
        return [Hit("secret.refresh-token", f"refresh token `{name.rsplit('.', 1)[-1]}` {fp}", fp)]
    kinds = [k for k, _ in find_credentials(f"{value}\n")]
    if kinds:
        return [Hit("secret.static", f"{kinds[0]} {fp}", fp)]
    if _SECRET_NAME.search(name.rsplit(".", 1)[-1]) and looks_like_secret(value):
        return [Hit("secret.static", f"high-entropy value of `{name.rsplit('.', 1)[-1]}` {fp}", fp)]
    if value.startswith(("sk-", "sk_live_", "xox", "AKIA")) and looks_like_secret(value):
        return [Hit("secret.static", f"API key {fp}", fp)]
    return []


__all__ = ["LONG_LIVED_S", "Hit", "inspect_value", "jwt_claims", "placeholder"]
