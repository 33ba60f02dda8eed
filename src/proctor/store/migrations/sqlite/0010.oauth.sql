-- depends: 0009.templates
-- The gateway's OAuth authorization server (sqlite). See docs/adr/0028-oauth-authorization-server.md.
-- No token is stored as it is: authorization codes and refresh tokens are kept as their SHA-256.
CREATE TABLE oauth_clients (
  client_id TEXT PRIMARY KEY,       -- a random id (dynamic registration) or a metadata document URL
  name TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,      -- JSON list, matched exactly
  kind TEXT NOT NULL,               -- dcr | cimd
  created_at REAL NOT NULL
);
CREATE TABLE oauth_grants (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  email TEXT NOT NULL,              -- the person who consented: the requester of its tasks
  agent TEXT NOT NULL,
  template TEXT NOT NULL,
  resource TEXT NOT NULL,           -- the gateway's MCP URL (RFC 8707)
  task_id TEXT NOT NULL,            -- the task its tokens name now
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  revoked_at REAL,
  revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE oauth_codes (
  code_hash TEXT PRIMARY KEY,       -- hex SHA-256 of the code
  grant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  challenge TEXT NOT NULL,          -- PKCE S256 code challenge
  resource TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  used_at REAL
);
CREATE TABLE oauth_refresh (
  token_hash TEXT PRIMARY KEY,      -- hex SHA-256 of the refresh token
  grant_id TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  used_at REAL                        -- rotated: a second use is a reuse, which revokes the grant
);
CREATE INDEX oauth_refresh_by_grant ON oauth_refresh (grant_id);
