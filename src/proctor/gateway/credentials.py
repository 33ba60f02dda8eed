"""Credentials an upstream needs, obtained just in time for one task and injected by the gateway.

An upstream in ``upstreams.yaml`` may list ``credentials``. The first time a task uses that upstream
(lists its tools or calls one), the gateway asks policy (Cedar action ``use_credential``) whether the
task may have each credential, has the provider issue a lease for the task, and opens the task's own
upstream session with the lease's data rendered into HTTP headers (an HTTP upstream) or into the
environment of the task's own process (a stdio upstream). The agent sees none of it.

Before each call the gateway checks that the leases are still usable; a lease revoked on its own
(``proctor lease revoke``) closes the task's session, and the next use obtains a new lease (policy
decides again). When the task ends its leases are revoked and its sessions closed.

Example::

    upstreams:
      - namespace: billing
        url: https://billing.internal/mcp
        credentials:
          - name: billing-api
            provider: injected
            secret: billing.api-key
            header: {Authorization: "Bearer {value}"}
      - namespace: orders
        command: orders-mcp
        credentials:
          - name: orders-db
            provider: postgres
            admin_secret: pg.broker
            tables: [public.orders]
            env: {DATABASE_URL: "{dsn}"}

Templates take ``{key}`` placeholders naming the provider's data keys (``value`` for ``injected``,
``token`` for ``jwt``, ``dsn``/``user``/``password``/... for ``postgres``); ``{{``/``}}`` are literal
braces. A placeholder the provider did not supply fails the issue closed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.errors import ConfigError, ValidationError

__all__ = [
    "MAX_CREDENTIALS",
    "CredentialSpec",
    "Injection",
    "credential_from_mapping",
    "credentials_from_list",
    "header_value",
    "inject",
    "render",
    "reserved_env",
]


_CRED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}")
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]{0,31})\}|[{}]")
#: headers the gateway owns on an upstream connection: a credential may not set them
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "accept",
        "mcp-session-id",
        "mcp-protocol-version",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-authorization",
    }
)
#: environment variables a credential may not set in a tool process: ones that change what runs
_RESERVED_ENV = frozenset(
    {
        # the shell and the dynamic loader
        "PATH", "HOME", "SHELL", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "CDPATH",
        "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "MALLOC_CHECK_", "TMPDIR",
        # language runtimes
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "JAVA_HOME",
        "RUSTFLAGS", "R_PROFILE", "R_PROFILE_USER",
        "GOFLAGS", "GOPROXY", "GOPATH", "GOROOT", "GOENV", "GOTOOLCHAIN", "GOINSECURE", "GONOSUMDB",
        # where code and certificates come from, and where traffic and TLS secrets go
        "SSLKEYLOGFILE", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY",
        "EDITOR", "VISUAL", "PAGER", "BROWSER",
    }
)  # fmt: skip
_RESERVED_ENV_PREFIXES = (
    "LD_", "DYLD_", "PYTHON", "NODE_", "NPM_CONFIG_", "YARN_", "PNPM_", "BUN_", "DENO_",
    "PERL5", "PERLLIB", "RUBY", "GEM_", "BUNDLE_", "BASH_FUNC_",
    "DOTNET_", "CORECLR_", "COMPLUS_", "OPENSSL_", "GIT_", "UV_", "PIP_", "CONDA_", "PIPX_",
    "LUA_", "PHP_", "CARGO_", "JULIA_", "MAVEN_", "GRADLE_",
)  # fmt: skip
#: an HTTP field value (RFC 9110 5.5): visible characters, with inner spaces and tabs only
_FIELD_VALUE = re.compile(r"[\x21-\x7e\x80-\xff](?:[\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?")


def reserved_env(name: str) -> bool:
    """Whether a credential may not set ``name`` (it could change what a tool process runs, what it
    downloads, where its traffic or TLS secrets go). Matched without regard to case (`npm_config_*`).

    >>> reserved_env("LD_AUDIT"), reserved_env("PYTHONHOME"), reserved_env("DATABASE_URL")
    (True, True, False)
    """
    up = name.upper()
    return up in _RESERVED_ENV or up.startswith(_RESERVED_ENV_PREFIXES)


MAX_CREDENTIALS = 8


@dataclass(frozen=True)
class CredentialSpec:
    """One credential of an upstream: the provider that issues it, what the provider needs, and
    where its data goes (headers for HTTP, env for stdio)."""

    name: str
    provider: str
    params: Mapping[str, Any] = field(default_factory=dict)
    header: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    def provider_spec(self) -> dict[str, Any]:
        """What the provider receives (its own keys; the gateway's keys stay here)."""
        return {**self.params, "name": self.name}

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "provider": self.provider, **self.params}
        if self.header:
            out["header"] = dict(self.header)
        if self.env:
            out["env"] = dict(self.env)
        return out


def render(template: str, data: Mapping[str, Any]) -> str:
    """Fill ``{key}`` placeholders from a provider's data.

    >>> render("Bearer {token}", {"token": "abc"})
    'Bearer abc'
    >>> render("{{literal}} {value}", {"value": "v"})
    '{literal} v'
    >>> render("{nope}", {"value": "v"})
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: the credential has no `nope` to inject
    """
    out: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok in ("{{", "}}"):
            out.append(tok[0])
            continue
        key = m.group(1)
        if key is None:
            raise ValidationError("a credential template has an unbalanced `{` or `}`")
        value = data.get(key)
        if value is None or isinstance(value, Mapping | list | tuple):
            raise ValidationError(f"the credential has no `{key}` to inject")
        out.append(str(value))
    out.append(template[pos:])
    text = "".join(out)
    if any(c in text for c in "\r\n\x00"):
        raise ValidationError("an injected credential may not contain a line break or NUL")
    return text


def _check_template(template: Any, where: str) -> str:
    if not isinstance(template, str) or not template or len(template) > 1024:
        raise ConfigError(f"{where}: a template is a non-empty string of at most 1024 characters")
    placeholders = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.group(0) in ("{{", "}}"):
            continue
        if m.group(1) is None:
            raise ConfigError(f"{where}: unbalanced `{{` or `}}` (write `{{{{` for a literal brace)")
        placeholders += 1
    if placeholders == 0:
        raise ConfigError(f"{where}: the template injects nothing: name a data key, e.g. `{{value}}`")
    return template


def credential_from_mapping(raw: Any, transport: str, where: str) -> CredentialSpec:
    """Check one ``credentials`` entry of an upstream."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a credential is a mapping with `name`, `provider` and its target")
    name = raw.get("name")
    if not isinstance(name, str) or not _CRED_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: credential `name` must be 1-128 of A-Z a-z 0-9 . _ : / @ - starting with a letter or digit"
        )
    where = f"{where} `{name}`"
    kind = raw.get("provider")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ConfigError(f"{where}: `provider` names a provider kind (injected, jwt, postgres, ...)")
    header = raw.get("header") or {}
    env = raw.get("env") or {}
    if not isinstance(header, Mapping) or not isinstance(env, Mapping):
        raise ConfigError(f"{where}: `header` and `env` map a name to a template such as `Bearer {{token}}`")
    if transport == "http":
        if env:
            raise ConfigError(f"{where}: an http upstream takes `header`, not `env`")
        if not header:
            raise ConfigError(f"{where}: say where the credential goes: `header: {{Authorization: ...}}`")
        for h, t in header.items():
            if not isinstance(h, str) or not _HEADER.fullmatch(h) or h.lower() in _RESERVED_HEADERS:
                raise ConfigError(f"{where}: `{str(h)[:64]}` is not a header a credential may set")
            _check_template(t, f"{where} header `{h}`")
    else:
        if header:
            raise ConfigError(f"{where}: a stdio upstream takes `env`, not `header`")
        if not env:
            raise ConfigError(f"{where}: say where the credential goes: `env: {{API_KEY: ...}}`")
        for k, t in env.items():
            if not isinstance(k, str) or not _ENV_NAME.fullmatch(k) or reserved_env(k):
                raise ConfigError(f"{where}: `{str(k)[:64]}` is not a variable a credential may set")
            _check_template(t, f"{where} env `{k}`")
    params = {k: v for k, v in raw.items() if k not in ("name", "provider", "header", "env")}
    return CredentialSpec(
        name=name,
        provider=kind,
        params=params,
        header={str(k): str(v) for k, v in header.items()},
        env={str(k): str(v) for k, v in env.items()},
    )


def credentials_from_list(raw: Any, transport: str, where: str) -> tuple[CredentialSpec, ...]:
    """Check an upstream's ``credentials`` list."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: `credentials` must be a list")
    if len(raw) > MAX_CREDENTIALS:
        raise ConfigError(f"{where}: at most {MAX_CREDENTIALS} credentials per upstream")
    specs = tuple(credential_from_mapping(c, transport, f"{where}: credential") for c in raw)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: a credential name appears twice")
    targets = [t.lower() for s in specs for t in s.header] + [t for s in specs for t in s.env]
    if len(set(targets)) != len(targets):
        raise ConfigError(f"{where}: two credentials set the same header or variable")
    return specs


@dataclass(frozen=True)
class Injection:
    """What one task's session with one upstream carries: headers or env, and the leases behind them."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    leases: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.leases)


def header_value(template: str, data: Mapping[str, Any]) -> str:
    """A rendered header value, refused (without quoting it) unless it is a valid HTTP field value:
    no control characters, no leading or trailing whitespace (a pasted key often has one).

    >>> header_value("Bearer {value}", {"value": "abc"})
    'Bearer abc'
    >>> header_value("Bearer {value}", {"value": "abc "})
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: the credential is not a valid HTTP header value (control character or surrounding whitespace)
    """
    text = render(template, data)
    if not _FIELD_VALUE.fullmatch(text):
        raise ValidationError(
            "the credential is not a valid HTTP header value (control character or surrounding whitespace)"
        )
    return text


def inject(spec: CredentialSpec, data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and env one credential's data renders to."""
    return (
        {h: header_value(t, data) for h, t in spec.header.items()},
        {k: render(t, data) for k, t in spec.env.items()},
    )
