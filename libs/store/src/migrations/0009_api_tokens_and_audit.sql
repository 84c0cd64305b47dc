-- API tokens (written by the api service): only the SHA-256 of a token's secret is stored, so a
-- leaked database does not leak working credentials. A revoked token keeps its row (the audit log
-- names it) but no longer authenticates.
CREATE TABLE api_tokens (
  id            text PRIMARY KEY,
  display_name  text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  secret_hash   bytea NOT NULL UNIQUE,
  secret_prefix text NOT NULL,
  create_time   timestamptz NOT NULL DEFAULT now(),
  revoke_time   timestamptz
);
CREATE INDEX api_tokens_newest ON api_tokens (create_time DESC, id DESC);

-- One row per mutating call of the public API: who (token), what (method and resource), when, and
-- the outcome (a gRPC code name). Calls without a valid token are not recorded: they change nothing.
CREATE TABLE audit_events (
  id                 bigserial PRIMARY KEY,
  time               timestamptz NOT NULL DEFAULT now(),
  token_id           text NOT NULL,
  token_display_name text NOT NULL,
  method             text NOT NULL,
  resource           text NOT NULL,
  outcome            text NOT NULL,
  transport          text NOT NULL CHECK (transport IN ('grpc', 'http'))
);
