"""Approver accounts: the people who decide held calls, how they sign in (a local password or
OpenID Connect) and their browser sessions. See ``docs/adr/0023-approver-accounts-and-web-session.md``.

Agents never sign in here: an agent authenticates with its SVID, which no approval channel takes.
"""

from proctor.accounts.service import Accounts, SessionInfo
from proctor.accounts.settings import LoginSettings, OidcSettings

__all__ = ["Accounts", "LoginSettings", "OidcSettings", "SessionInfo"]
