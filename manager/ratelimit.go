package manager

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per account and per client address in
// a sliding window, in memory (one process answers a given client; a
// restart forgets, which is acceptable for a throttle).
type loginLimiter struct {
	mu         sync.Mutex
	window     time.Duration
	perAccount int
	perAddress int
	fails      map[string][]time.Time // "u:name" or "a:addr" → failure times, oldest first
}

func newLoginLimiter(window time.Duration, perAccount, perAddress int) *loginLimiter {
	return &loginLimiter{window: window, perAccount: perAccount, perAddress: perAddress, fails: map[string][]time.Time{}}
}

// maxTrackedKeys bounds the limiter's memory under a spray of addresses.
const maxTrackedKeys = 100_000

func (l *loginLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = ts
	return ts
}

// allow reports whether a login for account from addr may be tried now,
// and otherwise how long to wait.
func (l *loginLimiter) allow(account, addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range []struct {
		key   string
		limit int
	}{{"u:" + account, l.perAccount}, {"a:" + addr, l.perAddress}} {
		ts := l.prune(k.key, now)
		if len(ts) >= k.limit {
			wait = max(wait, l.window-now.Sub(ts[len(ts)-k.limit]))
		}
	}
	return wait == 0, wait
}

// fail records a failed login.
func (l *loginLimiter) fail(account, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxTrackedKeys {
		for k := range l.fails {
			l.prune(k, now)
		}
		if len(l.fails) >= maxTrackedKeys {
			clear(l.fails)
		}
	}
	for _, k := range []string{"u:" + account, "a:" + addr} {
		l.fails[k] = append(l.fails[k], now)
	}
}

// succeed forgets an account's failures after a successful login.
func (l *loginLimiter) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "u:"+account)
}
