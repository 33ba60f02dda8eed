"""``proctor keys``: the workspace's signing keys (SVIDs, and credential tokens for downstream APIs)."""

from __future__ import annotations

import typer

from proctor.cli._common import WorkspaceOpt, emit_json, handled, opened, out

keys_app = typer.Typer(help="Workspace signing keys.", no_args_is_help=True)

_CREDENTIALS_OPT = typer.Option(
    "--credentials", help="The ring that signs credential tokens for downstream APIs, not SVIDs."
)


@keys_app.command("rotate")
def keys_rotate(workspace: WorkspaceOpt = None, credentials: bool = _CREDENTIALS_OPT) -> None:
    """Rotate the SVID signing key (or, with --credentials, the credential-token key); the old key
    stays in its JWKS until its tokens expire."""
    with opened(workspace) as p, handled():
        kid = p.credentials.rotate_key() if credentials else p.agents.rotate_key()
    out.print(f"active {'credential' if credentials else 'SVID'} signing key {kid}")


@keys_app.command("jwks")
def keys_jwks(workspace: WorkspaceOpt = None, credentials: bool = _CREDENTIALS_OPT) -> None:
    """Print the JWKS relying parties verify JWT-SVIDs with (or, with --credentials, the one
    downstream APIs verify credential tokens with)."""
    with opened(workspace) as p:
        emit_json((p.credentials.keys if credentials else p.agents.keys).jwks(p.clock.now()))


__all__ = ["keys_app"]
