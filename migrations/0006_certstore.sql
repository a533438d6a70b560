-- Caddy's certificate storage, shared by every node of the cluster: the
-- PiCloud CA, issued certificates, ACME accounts and OCSP staples.
CREATE TABLE cert_storage (
    key      text PRIMARY KEY,
    value    bytea NOT NULL,
    modified timestamptz NOT NULL DEFAULT now()
);
-- Prefix scans (List, Delete of a "directory") use the C collation.
CREATE INDEX cert_storage_key_prefix ON cert_storage (key text_pattern_ops);

-- Cluster-wide locks (certificate issuance, CA creation). A lock whose
-- holder stopped refreshing it expires and may be taken over.
CREATE TABLE cert_locks (
    name       text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at timestamptz NOT NULL
);
