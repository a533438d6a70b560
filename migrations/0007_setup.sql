-- One-time setup tokens: while no owner or admin exists, every node that
-- starts adds its own token (only the SHA-256 is stored). Any unused token
-- creates the first owner; that marks every token used, in the same
-- transaction, so none works again.
CREATE TABLE setup_tokens (
    token_hash bytea PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
