package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminPrefix is where the admin API lives on every node.
const adminPrefix = "/api/v1/admin"

// client speaks HTTP to one node's admin API.
type client struct {
	base  string // e.g. http://localhost:8080, no trailing slash
	token string
	http  *http.Client
}

func newClient(base, token string) *client {
	return &client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}
}

// apiError is an error answer of the admin API, or a transport failure
// (Status 0).
type apiError struct {
	Status  int
	Code    string
	Message string
	Details json.RawMessage
	// hint says what to do about it.
	hint string
}

func (e *apiError) Error() string {
	var b strings.Builder
	switch {
	case e.Status == 0:
		b.WriteString(e.Message)
	case e.Code != "":
		fmt.Fprintf(&b, "%s (%d %s)", e.Message, e.Status, e.Code)
	default:
		fmt.Fprintf(&b, "%s (%d)", e.Message, e.Status)
	}
	if len(e.Details) > 0 && string(e.Details) != "null" {
		fmt.Fprintf(&b, "\n  details: %s", e.Details)
	}
	if e.hint != "" {
		b.WriteString("\n  hint: " + e.hint)
	}
	return b.String()
}

// do sends one admin API request: in (if not nil) as JSON, the answer
// decoded into out (if not nil).
func (c *client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, method, adminPrefix+path, query, in, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return c.unreachable(err)
	}
	if resp.StatusCode >= 400 {
		return decodeError(resp.StatusCode, body)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return &apiError{Message: fmt.Sprintf("unexpected answer from %s %s: %v", method, path, err),
				hint: "is " + c.base + " a PiCloud node of a compatible version? (picloud version)"}
		}
	}
	return nil
}

// send performs a request and returns the raw response.
func (c *client) send(ctx context.Context, method, path string, query url.Values, in any, header http.Header) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		switch v := in.(type) {
		case []byte:
			body = bytes.NewReader(v)
		default:
			b, err := json.Marshal(in)
			if err != nil {
				return nil, err
			}
			body = bytes.NewReader(b)
		}
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &apiError{Message: fmt.Sprintf("bad server URL %q: %v", c.base, err), hint: "run `picloud login URL` or set PICLOUD_URL"}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if _, isBytes := in.([]byte); in != nil && !isBytes {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" && strings.HasPrefix(path, adminPrefix) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "picloud-cli")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	return resp, nil
}

func (c *client) unreachable(err error) error {
	return &apiError{Message: fmt.Sprintf("cannot reach PiCloud at %s: %v", c.base, errors.Unwrap(err)),
		hint: "is the node running (picloud dev)? Point the CLI at it with `picloud login URL` or PICLOUD_URL"}
}

func decodeError(status int, body []byte) *apiError {
	var env struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	e := &apiError{Status: status}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		e.Code, e.Message, e.Details = env.Error.Code, env.Error.Message, env.Error.Details
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	}
	switch status {
	case http.StatusUnauthorized:
		e.hint = "log in again with `picloud login`, or set PICLOUD_TOKEN to a valid token or API key"
	case http.StatusForbidden:
		e.hint = "your account or API key lacks the permission; ask an admin of this app or instance"
	case http.StatusTooManyRequests:
		e.hint = "too many failed logins for this account or address; wait and retry (an admin can set the password with `picloud users passwd`)"
	case http.StatusServiceUnavailable:
		e.hint = "the control plane is unavailable right now; retry shortly"
	}
	return e
}

// Exit codes, documented in docs/cli.md.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitAuth        = 3
	exitNotFound    = 4
	exitConflict    = 5
	exitUnavailable = 6
)

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var u *usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	var e *apiError
	if errors.As(err, &e) {
		switch {
		case e.Status == 0 || e.Status >= 500:
			return exitUnavailable
		case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusTooManyRequests:
			return exitAuth
		case e.Status == http.StatusNotFound:
			return exitNotFound
		case e.Status == http.StatusConflict || e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusBadRequest ||
			e.Status == http.StatusRequestEntityTooLarge:
			return exitConflict
		}
	}
	if errors.Is(err, errNotLoggedIn) {
		return exitAuth
	}
	if errors.Is(err, errNotFound) {
		return exitNotFound
	}
	return exitError
}

var (
	errNotLoggedIn = errors.New("not logged in")
	errNotFound    = errors.New("not found")
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// retryAfter is how long a live tail waits before reconnecting.
func retryAfter(attempt int) time.Duration {
	return min(time.Duration(1<<min(attempt, 5))*250*time.Millisecond, 5*time.Second)
}
