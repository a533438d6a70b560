package node

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// kvBinding gives a script the native methods behind its KVNamespace (see
// the runtime prelude). appID comes from the execution, never the script.
func kvBinding(mgr *manager.Manager, appID, namespace string) runtime.BindingValue {
	return runtime.BindingValue{Wrap: "kv", Methods: map[string]runtime.AsyncMethod{
		// _get(key) → [bytes or null, metadata JSON or null]
		"_get": func(ctx context.Context, args []any) (any, error) {
			e, ok, err := mgr.KVGet(ctx, appID, namespace, argString(args, 0))
			if err != nil || !ok {
				return []any{nil, nil}, err
			}
			var meta any
			if e.Metadata != nil {
				meta = string(e.Metadata)
			}
			return []any{e.Value, meta}, nil
		},
		// _put(key, bytes, expiration, expirationTtl, metadata JSON or null)
		"_put": func(ctx context.Context, args []any) (any, error) {
			value, _ := arg(args, 1).([]byte)
			opts := manager.KVPutOptions{Expiration: argInt(args, 2), ExpirationTTL: argInt(args, 3)}
			if m, ok := arg(args, 4).(string); ok {
				opts.Metadata = json.RawMessage(m)
			}
			return nil, mgr.KVPut(ctx, appID, namespace, argString(args, 0), value, opts)
		},
		"_delete": func(ctx context.Context, args []any) (any, error) {
			return nil, mgr.KVDelete(ctx, appID, namespace, argString(args, 0))
		},
		// _list(prefix, limit, cursor) → the Workers list result as JSON
		"_list": func(ctx context.Context, args []any) (any, error) {
			page, err := mgr.KVListKeys(ctx, appID, namespace, manager.KVListOptions{
				Prefix: argString(args, 0), Limit: int(argInt(args, 1)), Cursor: argString(args, 2),
			})
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(page)
			if err != nil {
				return nil, fmt.Errorf("encoding kv list: %w", err)
			}
			return string(b), nil
		},
	}}
}

func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func argString(args []any, i int) string {
	s, _ := arg(args, i).(string)
	return s
}

func argInt(args []any, i int) int64 {
	switch n := arg(args, i).(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}
