package runtime

import (
	"container/list"
	"sync"
	"time"
)

// pool keeps idle runtimes per script version, bounded per version and in
// total, evicting the least recently used. Unlike a sync.Pool it does not
// lose its runtimes at every GC, which would make warm requests pay a cold
// start. Programs are cached separately and never evicted; a runtime is
// about 50 KB warmed, so MaxIdle bounds the pool's memory.
type pool struct {
	perKey int
	max    int
	ttl    time.Duration

	mu   sync.Mutex
	idle map[string][]*instance // most recently used last
	lru  list.List              // of *instance, most recent at the front
}

func newPool(perKey, max int, ttl time.Duration) *pool {
	return &pool{perKey: perKey, max: max, ttl: ttl, idle: make(map[string][]*instance)}
}

// get takes an idle runtime of key, or returns nil.
func (p *pool) get(key string) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.idle[key]
	if len(s) == 0 {
		return nil
	}
	in := s[len(s)-1]
	s[len(s)-1] = nil
	if len(s) == 1 {
		delete(p.idle, key)
	} else {
		p.idle[key] = s[:len(s)-1]
	}
	p.lru.Remove(in.elem)
	in.elem = nil
	return in
}

// put returns a healthy runtime; it may evict others, or in itself.
func (p *pool) put(in *instance, now time.Time) {
	var drop []*instance
	p.mu.Lock()
	if len(p.idle[in.key]) >= p.perKey {
		drop = append(drop, in)
	} else {
		in.idleSince = now
		p.idle[in.key] = append(p.idle[in.key], in)
		in.elem = p.lru.PushFront(in)
	}
	for p.lru.Len() > 0 {
		old := p.lru.Back().Value.(*instance)
		if p.lru.Len() <= p.max && now.Sub(old.idleSince) < p.ttl {
			break
		}
		p.removeLocked(old)
		drop = append(drop, old)
	}
	p.mu.Unlock()
	for _, in := range drop {
		in.discard()
	}
}

func (p *pool) removeLocked(in *instance) {
	p.lru.Remove(in.elem)
	in.elem = nil
	s := p.idle[in.key]
	for i, x := range s {
		if x == in {
			s = append(s[:i], s[i+1:]...)
			break
		}
	}
	if len(s) == 0 {
		delete(p.idle, in.key)
	} else {
		p.idle[in.key] = s
	}
}

// size is the number of idle runtimes.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lru.Len()
}
