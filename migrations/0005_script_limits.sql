-- Per-version sandbox overrides (see internal/limits): a JSON object of
-- knob name to value, validated against the node's ceilings on deploy.
ALTER TABLE script_versions ADD COLUMN limits jsonb NOT NULL DEFAULT '{}'::jsonb;
