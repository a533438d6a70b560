-- Per-app execution log retention: an app may keep fewer executions,
-- fewer console lines or a shorter age than the node's bounds
-- (PICLOUD_LOG_RETAIN_*); NULL takes the node's bound. The manager clamps
-- every value to the node's bound when it purges.
ALTER TABLE apps
    ADD COLUMN log_retain_executions integer CHECK (log_retain_executions > 0),
    ADD COLUMN log_retain_lines integer CHECK (log_retain_lines > 0),
    ADD COLUMN log_retain_age_seconds bigint CHECK (log_retain_age_seconds > 0);
