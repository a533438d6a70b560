package runtime

// PooledScripts is the number of script versions that have idle runtimes
// kept warm (the picloud_runtime_pools metric). It only reads the pool.
func (e *Engine) PooledScripts() int {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	return len(e.pool.idle)
}
