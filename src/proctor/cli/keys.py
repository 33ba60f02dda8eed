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
    from proctor.identity.rotation import rotate_signing_key

    with opened(workspace) as p, handled():
        kid = rotate_signing_key(p.credential_keys if credentials else p.keys, p.audit, p.clock.now())
    out.print(f"active {'credential' if credentials else 'SVID'} signing key {kid}")


@keys_app.command("jwks")
def keys_jwks(workspace: WorkspaceOpt = None, credentials: bool = _CREDENTIALS_OPT) -> None:
    """Print the JWKS relying parties verify JWT-SVIDs with (or, with --credentials, the one
    downstream APIs verify credential tokens with)."""
    with opened(workspace) as p:
        emit_json((p.credential_keys if credentials else p.keys).jwks(p.clock.now()))


__all__ = ["keys_app"]
