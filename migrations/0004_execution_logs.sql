-- Execution logs: one row per execution and one per console line. Rows are
-- append-only; the manager's retention purge bounds them per app by count
-- and by age. id columns are the paging cursors (newest first).
CREATE TABLE executions (
    app_id       uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id text NOT NULL,
    request_id   text NOT NULL DEFAULT '',
    -- No foreign key: the history of a deleted script stays until purged.
    script_id    uuid NOT NULL,
    version      integer NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    status       integer NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('success', 'error', 'timeout', 'limit')),
    error        text NOT NULL DEFAULT '',
    duration_us  bigint NOT NULL,
    started_at   timestamptz NOT NULL,
    log_count    integer NOT NULL DEFAULT 0
);
CREATE INDEX executions_app_id ON executions (app_id, id);
CREATE INDEX executions_script_id ON executions (script_id, id);
CREATE INDEX executions_started_at ON executions (started_at);
CREATE INDEX executions_execution_id ON executions (execution_id);

CREATE TABLE execution_logs (
    app_id    uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exec_id   bigint NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    script_id uuid NOT NULL,
    time      timestamptz NOT NULL,
    -- 0 debug, 1 info, 2 warn, 3 error: filtering by minimum level is a
    -- range scan.
    level     smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    message   text NOT NULL
);
CREATE INDEX execution_logs_app_id ON execution_logs (app_id, id);
CREATE INDEX execution_logs_script_id ON execution_logs (script_id, id);
CREATE INDEX execution_logs_exec_id ON execution_logs (exec_id);
