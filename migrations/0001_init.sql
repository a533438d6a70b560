-- Apps are the isolation boundary: every data-plane row belongs to one.
CREATE TABLE apps (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domains (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    pattern    text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_app_id ON domains (app_id);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Session tokens are stored as SHA-256 hashes; the clear token is only ever
-- held by the client.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE scripts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name            text NOT NULL,
    current_version integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, name)
);

-- Versions are immutable: a deploy inserts one, a rollback moves
-- scripts.current_version.
CREATE TABLE script_versions (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id  uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    version    integer NOT NULL,
    language   text NOT NULL CHECK (language IN ('javascript', 'typescript')),
    source     text NOT NULL,
    code       text NOT NULL,
    hash       text NOT NULL,
    bindings   jsonb NOT NULL DEFAULT '{}',
    author_id  uuid REFERENCES users(id) ON DELETE SET NULL,
    message    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (script_id, version)
);

CREATE TABLE routes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id  uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    method     text NOT NULL,
    host       text NOT NULL DEFAULT '',
    path       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routes_app_id ON routes (app_id);
