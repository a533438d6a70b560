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
