package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/picloud/picloud/edge"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// CronMethod is the method recorded for an execution started by a cron
// trigger; its path is the trigger's schedule (docs/cron.md).
const CronMethod = "SCHEDULED"

// cronRunner runs the ticks the manager's scheduler claims: the script's
// current version and bindings, as for HTTP, through Engine.Scheduled, into
// the execution log.
type cronRunner struct {
	catalog catalog
	engine  *runtime.Engine
	mgr     *manager.Manager
	log     *slog.Logger
}

func (r cronRunner) fire(ctx context.Context, f manager.CronFire) {
	// No HTTP server recovers for a tick: a panic must not end the node.
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("cron trigger panicked", "script_id", f.ScriptID, "trigger_id", f.TriggerID, "panic", p)
		}
	}()
	s, err := r.catalog.Script(ctx, f.ScriptID)
	if errors.Is(err, edge.ErrScriptNotFound) {
		return // deleted since the claim; its triggers went with it
	}
	if err != nil {
		r.log.Error("cron trigger: loading the script", "script_id", f.ScriptID, "trigger_id", f.TriggerID, "err", err)
		return
	}
	id := cronID()
	res, err := r.engine.Scheduled(ctx, &runtime.ScheduledRequest{Script: s, Cron: f.Schedule,
		ScheduledTime: f.ScheduledTime, RequestID: id, ExecutionID: id})
	lines := make([]manager.ConsoleLine, len(res.Logs))
	for i, l := range res.Logs {
		lines[i] = manager.ConsoleLine{Time: l.Time, Level: l.Level, Message: l.Message}
	}
	var msg string
	if err != nil {
		msg = err.Error()
	}
	// Status 0: a scheduled run answers no HTTP request.
	r.mgr.RecordExecution(ctx, manager.ExecutionRecord{
		ExecutionID: id, RequestID: id, AppID: s.AppID, ScriptID: s.ID, Version: s.Version,
		Method: CronMethod, Path: f.Schedule, Outcome: string(res.Outcome), Error: msg,
		Duration: res.Duration, Lines: lines,
	})
}

func cronID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
