-- depends: 0005.approvals
-- Approver accounts and their web sessions (sqlite). See docs/adr/0023-approver-accounts-and-web-session.md.
-- No password and no session token is stored as it is: users hold an argon2id hash, sessions
-- the SHA-256 of their token, pending OpenID Connect logins the SHA-256 of their state.
CREATE TABLE users (
  email TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  groups TEXT NOT NULL,             -- JSON list of group names, sorted
  password_hash TEXT,               -- argon2id (PHC string); NULL: this person signs in by OIDC only
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until REAL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE web_sessions (
  token_hash TEXT PRIMARY KEY,      -- hex SHA-256 of the cookie's token
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  groups TEXT NOT NULL,             -- JSON list, as authenticated (local account or OIDC claim)
  via TEXT NOT NULL,                -- password | oidc:<issuer>
  created_at REAL NOT NULL,
  last_seen REAL NOT NULL,
  expires_at REAL NOT NULL,           -- absolute expiry
  revoked_at REAL
);
CREATE INDEX web_sessions_by_email ON web_sessions (email);
CREATE TABLE oidc_logins (
  state_hash TEXT PRIMARY KEY,      -- hex SHA-256 of the state sent to the provider
  nonce TEXT NOT NULL,
  verifier TEXT NOT NULL,           -- the PKCE code verifier
  next_path TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL
);
