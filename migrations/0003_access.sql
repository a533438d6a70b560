-- Slug history: a renamed app keeps answering on its old slug (the admin
-- API redirects permanently) until another app claims that slug.
CREATE TABLE app_slug_history (
    slug       text PRIMARY KEY,
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    retired_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_slug_history_app_id ON app_slug_history (app_id);

-- Per-app roles of users (instance roles live in users.role).
CREATE TABLE app_members (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('app_admin', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_members_user_id ON app_members (user_id);

-- API keys: the clear key (pic_<base32>) is shown once; only its SHA-256
-- is stored, found through the indexed 8-character prefix.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL,
    app_id       uuid REFERENCES apps(id) ON DELETE CASCADE,
    expires_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- A key bound to an app can never act on the instance.
    CHECK (app_id IS NULL OR NOT ('instance:*' = ANY (scopes)))
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

-- Dispatch mode of a route; only synchronous dispatch exists so far.
ALTER TABLE routes ADD COLUMN dispatch text NOT NULL DEFAULT 'sync' CHECK (dispatch IN ('sync'));
ALTER TABLE routes ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
