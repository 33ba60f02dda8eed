"""Changes to a workspace's upstream MCP servers (``upstreams.yaml``), each recorded in the audit
log here, once: ``upstream.added``, ``upstream.removed``, ``upstream.credential_added`` and
``upstream.credential_removed``. An upstream is recorded as :func:`upstream_summary` shows it:
environment variable *names*, never values, and arguments that look like secrets masked.

The file format is :mod:`proctor.gateway.config`'s; pins are :mod:`proctor.gateway.pinning`'s.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from proctor.credentials.detect import looks_like_secret
from proctor.errors import ConfigError, Conflict, NotFound, ValidationError
from proctor.gateway.config import UpstreamConfig, load_upstreams, save_upstreams, upstream_from_mapping
from proctor.gateway.pinning import clear_pins
from proctor.redact import redact_url
from proctor.store.base import Store

if TYPE_CHECKING:
    from proctor.audit.log import AuditLog


class _Providers(Container[str], Protocol):
    def kinds(self) -> list[str]: ...


def upstream_summary(cfg: UpstreamConfig) -> dict[str, Any]:
    """An upstream as the CLI shows and the log records it: environment variable *names* only."""
    data: dict[str, Any] = {"namespace": cfg.namespace, "transport": cfg.transport}
    if cfg.transport == "stdio":
        data["command"] = cfg.command
        data["args"] = ["***" if looks_like_secret(a) else a for a in cfg.args]
        data["env_names"] = sorted(cfg.env)
    else:
        data["url"] = redact_url(cfg.url or "")  # an http or a2a upstream always has one
    if cfg.transport == "a2a":
        data["card_digest"] = cfg.a2a.get("card_digest")
        data["card_keys"] = [str(k.get("kid", "")) for k in cfg.a2a.get("keys") or []]
        data["jwks_url"] = cfg.a2a.get("jwks_url")
        data["allow_unsigned"] = bool(cfg.a2a.get("allow_unsigned"))
    data["default_effect"] = cfg.default.get("effect", "execute")
    data["tools"] = {k: dict(v) for k, v in cfg.tools.items()}
    data["prefix"] = cfg.prefix
    data["timeout_s"] = cfg.timeout_s
    if cfg.credentials:
        # names and targets only: the values live in the secret store or come from a provider
        data["credentials"] = [
            {"name": c.name, "provider": c.provider, "header": sorted(c.header), "env": sorted(c.env)}
            for c in cfg.credentials
        ]
    return data


def find_upstream(root: Path, namespace: str) -> UpstreamConfig:
    """The upstream of ``namespace`` in the workspace at ``root``; :class:`NotFound` if none."""
    for cfg in load_upstreams(root):
        if cfg.namespace == namespace:
            return cfg
    raise NotFound(f"unknown upstream `{namespace}`: see `proctor upstream list`")


def add_upstream(root: Path, audit: AuditLog, cfg: UpstreamConfig, *, by: str = "cli") -> None:
    """Add ``cfg`` to ``upstreams.yaml`` and record ``upstream.added``. :class:`Conflict` if its
    namespace exists, or if it and another upstream would both expose tools without a prefix."""
    existing = load_upstreams(root)
    if any(u.namespace == cfg.namespace for u in existing):
        raise Conflict(f"upstream `{cfg.namespace}` already exists: `proctor upstream remove` it first")
    if not cfg.prefix:
        other = next((u.namespace for u in existing if not u.prefix), None)
        if other is not None:
            raise Conflict(f"upstream `{other}` already exposes its tools without a prefix: only one may")
    save_upstreams(root, [*existing, cfg])
    audit.append("upstream.added", {"by": by, **upstream_summary(cfg)})


def a2a_upstream(
    namespace: str,
    url: str,
    *,
    keys: list[dict[str, Any]],
    jwks_url: str | None,
    allow_unsigned: bool,
    effects: dict[str, str],
    timeout: str = "30s",
    prefix: bool = True,
) -> UpstreamConfig:
    """The configuration of an A2A agent before its card is pinned (see :func:`pin_a2a_card`)."""
    from proctor.gateway.a2a import card_url

    a2a: dict[str, Any] = {
        "keys": keys,
        "card_digest": "",
        "allow_unsigned": allow_unsigned,
        "effects": effects,
    }
    if jwks_url:
        from proctor.gateway.a2a import check_jwks_url

        a2a["jwks_url"] = check_jwks_url(jwks_url)
    raw: dict[str, Any] = {
        "namespace": namespace,
        "transport": "a2a",
        "url": card_url(url),
        "timeout": timeout,
        "a2a": a2a,
        "default": {"effect": "execute", "labels": {"trust": "untrusted"}},
    }
    if not prefix:
        raw["prefix"] = False
    try:
        return upstream_from_mapping(raw, "upstream add")
    except ConfigError as exc:
        raise ValidationError(exc.message) from None


def pin_a2a_card(audit: AuditLog, cfg: UpstreamConfig, *, by: str = "cli") -> UpstreamConfig:
    """Fetch ``cfg``'s agent card, verify its signature against the pinned keys and return ``cfg``
    with the card's digest pinned and one tool per skill (effect: the operator's, else the skill's
    ``proctor:effect=`` tag, else ``execute``; output labelled untrusted unless already described).
    A card that fails is recorded as ``upstream.a2a_card_refused`` and raised."""
    from dataclasses import replace

    from proctor.gateway.a2a import (
        A2ACardRefused,
        card_digest,
        endpoint,
        fetch_card,
        pinned_keys,
        skill_effects,
        verify_card,
    )

    assert cfg.url is not None
    try:
        card = fetch_card(cfg.url, cfg.timeout_s)
        kid = verify_card(
            card, pinned_keys(cfg.a2a, cfg.timeout_s), allow_unsigned=bool(cfg.a2a.get("allow_unsigned"))
        )
        effects = skill_effects(card, cfg.a2a.get("effects") or {})
        where = endpoint(card, cfg.url)
    except A2ACardRefused as exc:
        refused(audit, cfg, exc.message, by=by)
        raise
    tools: dict[str, dict[str, Any]] = {}
    for skill, effect in effects.items():
        desc = dict(cfg.described(skill))
        desc["effect"] = effect
        desc.setdefault("labels", {"trust": "untrusted"})
        tools[skill] = desc
    a2a = {**cfg.a2a, "card_digest": card_digest(card)}
    audit.append(
        "upstream.a2a_card_pinned",
        {
            "by": by,
            "namespace": cfg.namespace,
            "url": redact_url(cfg.url),
            "card_digest": a2a["card_digest"],
            "endpoint": redact_url(where),
            "signed_by": kid,
            "unsigned": kid is None,
            "effects": effects,
        },
    )
    return replace(cfg, tools=tools, a2a=a2a)


def check_effects(cfg: UpstreamConfig, actions: Container[str]) -> None:
    """:class:`ValidationError` if a skill of ``cfg`` has an effect the policy schema has no action for."""
    for skill, desc in cfg.tools.items():
        if desc.get("effect") not in actions:
            raise ValidationError(
                f"skill `{skill}` declares effect `{desc.get('effect')}`, which has no action in the policy schema"
            )


def refused(audit: AuditLog, cfg: UpstreamConfig, reason: str, *, by: str) -> None:
    """Record that ``cfg``'s agent card was refused (``upstream.a2a_card_refused``)."""
    audit.append(
        "upstream.a2a_card_refused",
        {"by": by, "namespace": cfg.namespace, "url": redact_url(cfg.url or ""), "reason": reason},
    )


def refresh_a2a(
    root: Path,
    audit: AuditLog,
    namespace: str,
    *,
    repin: bool = False,
    actions: Container[str] | None = None,
    by: str = "cli",
) -> UpstreamConfig:
    """Check the A2A upstream ``namespace``'s card again: signature and pinned digest. A card that
    changed is refused (``upstream.a2a_card_refused``) unless ``repin``: then, if its signature
    verifies, it is pinned anew with its skills' effects (``upstream.a2a_card_pinned``)."""
    from proctor.gateway.a2a import A2ACardRefused, verified_card

    cfg = find_upstream(root, namespace)
    if cfg.transport != "a2a":
        raise ValidationError(f"upstream `{namespace}` is not an A2A agent")
    if repin:
        new = pin_a2a_card(audit, cfg, by=by)
        if actions is not None:
            check_effects(new, actions)
        save_upstreams(root, [new if u.namespace == namespace else u for u in load_upstreams(root)])
        return new
    assert cfg.url is not None
    try:
        verified_card(cfg.url, cfg.a2a, cfg.timeout_s)
    except A2ACardRefused as exc:
        refused(audit, cfg, exc.message, by=by)
        raise
    return cfg


def remove_upstream(root: Path, store: Store, audit: AuditLog, namespace: str, *, by: str = "cli") -> int:
    """Remove the upstream of ``namespace`` and its tool pins, and record ``upstream.removed``.
    Returns how many pins went with it."""
    cfg = find_upstream(root, namespace)
    save_upstreams(root, [u for u in load_upstreams(root) if u.namespace != namespace])
    removed = clear_pins(store, namespace)
    audit.append("upstream.removed", {"by": by, "namespace": cfg.namespace, "pins_removed": removed})
    return removed


def add_credential(
    root: Path,
    audit: AuditLog,
    namespace: str,
    raw: dict[str, Any],
    providers: _Providers,
    *,
    by: str = "cli",
) -> None:
    """Give the upstream of ``namespace`` the credential ``raw`` (``name``, ``provider`` and the
    provider's parameters, as in ``upstreams.yaml``) and record ``upstream.credential_added``."""
    name, provider = raw["name"], raw["provider"]
    ups = load_upstreams(root)
    cfg = find_upstream(root, namespace)
    if any(c.name == name for c in cfg.credentials):
        raise Conflict(f"upstream `{namespace}` already has credential `{name}`: remove it first")
    if provider not in providers:
        raise ValidationError(f"no credential provider `{provider}`; known: {', '.join(providers.kinds())}")
    mapping = cfg.to_mapping()
    mapping["credentials"] = [*mapping.get("credentials", []), raw]
    try:
        new = upstream_from_mapping(mapping, "upstream credential add")
    except ConfigError as exc:
        raise ValidationError(exc.message) from None
    save_upstreams(root, [new if u.namespace == namespace else u for u in ups])
    audit.append(
        "upstream.credential_added",
        {"by": by, "namespace": namespace, "credential": name, "provider": provider},
    )


def remove_credential(root: Path, audit: AuditLog, namespace: str, name: str, *, by: str = "cli") -> None:
    """Take the credential ``name`` off the upstream of ``namespace`` and record
    ``upstream.credential_removed`` (leases already issued end with their tasks)."""
    cfg = find_upstream(root, namespace)
    if not any(c.name == name for c in cfg.credentials):
        raise NotFound(f"upstream `{namespace}` has no credential `{name}`")
    mapping = cfg.to_mapping()
    mapping["credentials"] = [c for c in mapping["credentials"] if c["name"] != name]
    new = upstream_from_mapping(mapping, "upstream credential remove")
    save_upstreams(root, [new if u.namespace == namespace else u for u in load_upstreams(root)])
    audit.append("upstream.credential_removed", {"by": by, "namespace": namespace, "credential": name})


__all__ = [
    "a2a_upstream",
    "add_credential",
    "add_upstream",
    "check_effects",
    "find_upstream",
    "pin_a2a_card",
    "refresh_a2a",
    "remove_credential",
    "remove_upstream",
    "upstream_summary",
]
