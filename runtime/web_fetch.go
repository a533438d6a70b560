package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
)

// OutboundConfig bounds the fetch() calls scripts make.
type OutboundConfig struct {
	// AllowPrivate lets scripts reach loopback, private, link-local and
	// other non-public addresses (PICLOUD_HTTP_ALLOW_PRIVATE). Off, every
	// dialled address is checked, after DNS and at every redirect hop.
	AllowPrivate bool
	// Timeout bounds one fetch from dial to the end of the body.
	Timeout time.Duration
	// MaxResponseBytes bounds the body of one fetched response.
	MaxResponseBytes int64
	// MaxSubrequests bounds fetch() calls per execution.
	MaxSubrequests int
	// MaxRedirects bounds redirects followed by one fetch.
	MaxRedirects int
}

// DefaultOutbound is used for the zero fields of Config.Outbound.
var DefaultOutbound = OutboundConfig{
	Timeout:          30 * time.Second,
	MaxResponseBytes: 16 << 20,
	MaxSubrequests:   50,
	MaxRedirects:     20,
}

// Sentinel errors of fetch().
var (
	// ErrForbiddenAddress means fetch() tried to reach a non-public address.
	ErrForbiddenAddress = errors.New("destination address is not allowed")
	// ErrTooManySubrequests means an execution exceeded its fetch() budget.
	ErrTooManySubrequests = errors.New("too many subrequests")
	// ErrResponseTooLarge means a fetched body exceeded MaxResponseBytes.
	ErrResponseTooLarge = errors.New("fetched response body too large")
)

func (c OutboundConfig) withDefaults() OutboundConfig {
	d := DefaultOutbound
	if c.Timeout > 0 {
		d.Timeout = c.Timeout
	}
	if c.MaxResponseBytes > 0 {
		d.MaxResponseBytes = c.MaxResponseBytes
	}
	if c.MaxSubrequests > 0 {
		d.MaxSubrequests = c.MaxSubrequests
	}
	if c.MaxRedirects > 0 {
		d.MaxRedirects = c.MaxRedirects
	}
	d.AllowPrivate = c.AllowPrivate
	return d
}

// nonPublic lists ranges that IsPrivate and friends do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"), // reserved and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("100::/64"),
}

// checkAddr refuses addresses a script must not reach from the node.
func checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid() {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
		}
	}
	return nil
}

// newOutboundClient returns the client fetch() uses. The address check
// runs in the dialer's Control hook, on the IP actually dialled, so DNS
// answers and redirect targets are all covered.
func newOutboundClient(cfg OutboundConfig) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
			}
			return checkAddr(ip)
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // never route scripts through the node's proxy
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("more than %d redirects", cfg.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
			}
			mode, _ := req.Context().Value(redirectModeKey{}).(string)
			switch mode {
			case "manual":
				return http.ErrUseLastResponse
			case "error":
				return errors.New("redirect mode is \"error\"")
			}
			return nil
		},
	}
}

// redirectModeKey carries a request's redirect mode to CheckRedirect.
type redirectModeKey struct{}

// fetchResult is what one outbound request hands back to the loop.
type fetchResult struct {
	status     int
	statusText string
	headers    []string
	body       []byte
	url        string
	redirected bool
}

// fetchNative implements the Go half of fetch(): it checks the scheme and
// budget at once, runs the request on its own goroutine and settles the
// returned promise on the instance's loop.
func (e *Engine) fetchNative(in *instance) func(method, rawURL string, pairs []string, body goja.Value, redirect string) goja.Value {
	vm := in.vm
	return func(method, rawURL string, pairs []string, body goja.Value, redirect string) goja.Value {
		p, resolve, reject := vm.NewPromise()
		x := in.exec
		fail := func(err error) goja.Value {
			_ = reject(vm.NewTypeError("fetch failed: " + err.Error()))
			return vm.ToValue(p)
		}
		if x == nil {
			return fail(errors.New("no execution is running"))
		}
		// The script's subrequests limit, within the node's outbound cap.
		if maxSub := min(x.limits.Subrequests, int64(e.outbound.MaxSubrequests)); x.subrequests >= maxSub {
			x.addLog("warn", (&LimitError{Limit: "subrequests", Value: maxSub}).Error())
			return fail(fmt.Errorf("%w: at most %d fetch() calls per execution", ErrTooManySubrequests, maxSub))
		}
		x.subrequests++
		if !strings.HasPrefix(rawURL, "http://") && !strings.HasPrefix(rawURL, "https://") {
			return fail(fmt.Errorf("unsupported scheme in %q: only http and https", rawURL))
		}
		var reqBody io.Reader
		if body != nil && !goja.IsNull(body) && !goja.IsUndefined(body) {
			reqBody = strings.NewReader(string(bytesOf(vm, body))) // copy: the JS buffer may change
		}
		ctx, cancel := context.WithTimeout(context.WithValue(x.ctx, redirectModeKey{}, redirect), e.outbound.Timeout)
		req, err := http.NewRequestWithContext(ctx, method, rawURL, reqBody)
		if err != nil {
			cancel()
			return fail(err)
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			req.Header.Add(pairs[i], pairs[i+1])
		}
		if h := req.Header.Get("Host"); h != "" {
			req.Host = h
			req.Header.Del("Host")
		}
		in.loop.pending++
		go func() {
			defer cancel()
			res, err := e.doFetch(req)
			in.loop.post(func() {
				if in.exec != x {
					return // a later execution owns the instance now
				}
				in.loop.pending--
				if err != nil {
					_ = reject(vm.NewTypeError("fetch failed: " + err.Error()))
					return
				}
				o := vm.NewObject()
				_ = o.Set("status", res.status)
				_ = o.Set("statusText", res.statusText)
				_ = o.Set("headers", res.headers)
				_ = o.Set("body", vm.NewArrayBuffer(res.body))
				_ = o.Set("url", res.url)
				_ = o.Set("redirected", res.redirected)
				_ = resolve(o)
			})
		}()
		return vm.ToValue(p)
	}
}

func (e *Engine) doFetch(req *http.Request) (*fetchResult, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, fmt.Errorf("%w (%s)", ErrForbiddenAddress, req.URL.Host)
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, e.outbound.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(b)) > e.outbound.MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, e.outbound.MaxResponseBytes)
	}
	res := &fetchResult{
		status:     resp.StatusCode,
		statusText: strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode))),
		body:       b,
		url:        resp.Request.URL.String(),
		redirected: resp.Request != req && resp.Request.URL.String() != req.URL.String(),
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			res.headers = append(res.headers, strings.ToLower(k), v)
		}
	}
	return res, nil
}
