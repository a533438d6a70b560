package runtime

// PooledScripts is the number of script versions that have idle runtimes
// kept warm (the picloud_runtime_pools metric). It only reads the pool.
func (e *Engine) PooledScripts() int {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	return len(e.pool.idle)
}

// BusyRuntimes is the number of runtimes executing a request now.
func (e *Engine) BusyRuntimes() int { return int(e.busy.Load()) }

// RuntimesCreated counts the runtimes built since the engine started,
// spares included.
func (e *Engine) RuntimesCreated() int64 { return e.created.Load() }
