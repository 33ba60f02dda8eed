"""The injected-secret provider: a stored upstream secret that the gateway adds for one task.

The value comes from the workspace secret store and goes only to the upstream: into an HTTP header of
every request the gateway sends to that upstream for the task, or into the environment of the task's
own stdio upstream process. The agent never sees it, and nothing records it.

The upstream's secret itself is long-lived (it is the upstream's API key, and rotating it is the
upstream's business), so what the lease bounds is its *use*: the gateway injects it only while the
lease is active, and when the task ends the lease is revoked and the task's upstream sessions are
closed, stdio processes included. ``revoke`` therefore has nothing to call and always succeeds.

Spec keys: ``secret`` (the stored secret's name). The gateway's own keys (``name``, ``provider``,
``header``, ``env``) are accepted and ignored. Data keys: ``value``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from proctor.credentials.providers.base import Issued, IssueRequest
from proctor.credentials.secrets import check_name
from proctor.errors import ValidationError
from proctor.validate import check_keys

__all__ = [
    "GATEWAY_KEYS",
    "INJECTED_KEYS",
    "InjectedSecretProvider",
    "check_spec_keys",
]


#: spec keys the gateway uses itself; a provider accepts and ignores them
GATEWAY_KEYS = frozenset({"name", "provider", "header", "env"})
#: the keys an ``injected`` credential takes
INJECTED_KEYS = frozenset({"secret"})


def check_spec_keys(kind: str, spec: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Refuse a spec key neither the provider nor the gateway knows (a typo must not go unnoticed).

    >>> check_spec_keys("injected", {"secret": "a", "sekret": "b"}, frozenset({"secret"}))
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: credential of provider `injected`: unknown key `sekret`
    """
    check_keys(
        spec, allowed | GATEWAY_KEYS, f"credential of provider `{kind}`", list_allowed=False, max_len=40
    )


class InjectedSecretProvider:
    """Hands a stored secret to the gateway for injection. ``secret(name)`` returns its value."""

    kind = "injected"
    #: a lost lease leaves nothing usable: the gateway only injects while the lease is active
    loss_fails_closed = True

    def __init__(self, secret: Callable[[str], bytes]) -> None:
        self._secret = secret

    def issue(self, req: IssueRequest) -> Issued:
        check_spec_keys(self.kind, req.spec, INJECTED_KEYS)
        name = req.spec.get("secret")
        if not isinstance(name, str):
            raise ValidationError("credential of provider `injected` needs `secret`: a stored secret's name")
        raw = self._secret(check_name(name))
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"secret `{name}` is not UTF-8 text and cannot be injected") from None
        if any(c in value for c in "\r\n\x00"):
            raise ValidationError(f"secret `{name}` contains a line break or NUL and cannot be injected")
        return Issued(data={"value": value}, expires_at=req.task.deadline, revoke_handle={"secret": name})

    def revoke(self, handle: Mapping[str, Any]) -> None:
        """Nothing to call: the gateway stops injecting and closes the task's upstream sessions."""
        return None
