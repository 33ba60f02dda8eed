-- depends: 0002.tool-pins
-- Secret store (PostgreSQL): upstream secrets encrypted with AES-256-GCM under the workspace secrets key.
-- The key itself is never stored: only its id (first 16 hex of its SHA-256) and a check ciphertext.
CREATE TABLE secret_keys (
  key_id TEXT PRIMARY KEY,          -- first 16 hex of SHA-256 of the key
  check_nonce BYTEA NOT NULL,       -- 96-bit nonce of the check ciphertext
  check_ciphertext BYTEA NOT NULL,  -- a fixed text encrypted under the key: a wrong key fails at start-up
  created_at DOUBLE PRECISION NOT NULL,
  retired_at DOUBLE PRECISION       -- NULL for the one active key
);
CREATE UNIQUE INDEX secret_keys_one_active ON secret_keys ((1)) WHERE retired_at IS NULL;

CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES secret_keys(key_id),
  nonce BYTEA NOT NULL,             -- fresh 96-bit nonce per ciphertext
  ciphertext BYTEA NOT NULL,        -- AES-256-GCM, AAD = "proctor-secret-v1\0" || name
  created_at DOUBLE PRECISION NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL,
  version BIGINT NOT NULL
);
