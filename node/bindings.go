package node

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// bindings resolves the env bindings the runtime does not handle itself.
// Secrets are decrypted per execution for the app of that execution; kv
// comes with its own wiring. mgr is set once the manager is open, before
// the edge serves anything.
type bindings struct{ mgr *manager.Manager }

func (b *bindings) Bind(ctx context.Context, call runtime.CallInfo, spec runtime.BindingSpec) (runtime.BindingValue, error) {
	switch spec.Type {
	case "secret":
		var cfg struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(spec.Config, &cfg); err != nil {
			return runtime.BindingValue{}, fmt.Errorf("reading secret binding: %w", err)
		}
		v, ok, err := b.mgr.SecretValue(ctx, call.AppID, cfg.Name)
		if err != nil {
			return runtime.BindingValue{}, err
		}
		if !ok {
			return runtime.BindingValue{}, nil // unset: env.NAME is null
		}
		return runtime.BindingValue{Value: string(v)}, nil
	}
	return runtime.BindingValue{}, fmt.Errorf("%w %q", runtime.ErrUnknownBinding, spec.Type)
}

var _ runtime.BindingProvider = (*bindings)(nil)
