"""Credential providers: one module per kind, each implementing :class:`Provider`."""

from proctor.credentials.providers.base import (
    Issued,
    Provider,
    ProviderRegistry,
    RevocationUnrecoverable,
)

__all__ = ["Issued", "Provider", "ProviderRegistry", "RevocationUnrecoverable"]
