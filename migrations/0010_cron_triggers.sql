-- Cron triggers: schedules that call a script's scheduled handler
-- (manager/cron.go, docs/cron.md). A script's set is replaced as a whole;
-- position keeps the order it was given in. next_run_at is the next tick
-- to fire: the scheduler claims due rows with FOR UPDATE SKIP LOCKED and
-- moves next_run_at past now, so each tick fires once per cluster and
-- missed ticks fire once on catch-up.
CREATE TABLE cron_triggers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    script_id   uuid NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    schedule    text NOT NULL,
    timezone    text NOT NULL DEFAULT 'UTC',
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (script_id, position)
);
CREATE INDEX cron_triggers_next_run_at ON cron_triggers (next_run_at);
