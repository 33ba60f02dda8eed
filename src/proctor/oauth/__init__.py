"""The HTTP gateway's OAuth 2.1 authorization server (docs/adr/0028)."""

from proctor.oauth.server import AccessClaims, AuthorizationServer

__all__ = ["AccessClaims", "AuthorizationServer"]
