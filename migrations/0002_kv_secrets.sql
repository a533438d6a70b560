-- Workers KV: per app, per namespace, key → bytes with optional JSON
-- metadata and expiry. Keys sort bytewise (COLLATE "C"), as in Workers.
CREATE TABLE kv_entries (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    namespace  text NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      bytea NOT NULL,
    metadata   jsonb,
    expires_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, namespace, key)
);
CREATE INDEX kv_entries_expires_at ON kv_entries (expires_at) WHERE expires_at IS NOT NULL;

-- Secrets per app, AES-256-GCM under a key the node holds outside the
-- database. The app id and name are the additional data, so a ciphertext
-- moved to another row does not decrypt.
CREATE TABLE secrets (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name       text NOT NULL,
    nonce      bytea NOT NULL,
    ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, name)
);
