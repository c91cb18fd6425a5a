package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// adminClient talks to a running `flowc serve`'s admin API. Every client
// command takes --server (default $FLOWC_SERVER or http://127.0.0.1:8080)
// and --token (default $FLOWC_ADMIN_TOKEN).
type adminClient struct {
	server string
	token  string
	http   *http.Client
}

func adminFlags(fs *flag.FlagSet) *adminClient {
	c := &adminClient{http: &http.Client{Timeout: 30 * time.Second}}
	def := os.Getenv("FLOWC_SERVER")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	fs.StringVar(&c.server, "server", def, "the flowc server's base URL ($FLOWC_SERVER)")
	fs.StringVar(&c.token, "token", os.Getenv("FLOWC_ADMIN_TOKEN"), "admin API token ($FLOWC_ADMIN_TOKEN)")
	return c
}

// apiError is the server's error body.
type apiError struct {
	Error       string `json:"error"`
	Diagnostics []struct {
		File     string `json:"file"`
		Severity string `json:"severity"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Hint     string `json:"hint"`
		Range    struct {
			Start struct{ Line, Column int } `json:"start"`
		} `json:"range"`
	} `json:"diagnostics"`
}

// call sends a request and decodes a 2xx JSON answer into out. A non-2xx
// answer becomes an error carrying the server's message; diagnostics are
// printed GNU-style to w.
func (c *adminClient) call(method, path string, body, out any, w io.Writer) (int, error) {
	if c.token == "" {
		return 0, fmt.Errorf("no admin token: pass --token or set FLOWC_ADMIN_TOKEN (flowc serve printed it at its first start)")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(c.server, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e apiError
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
		}
		for _, d := range e.Diagnostics {
			fmt.Fprintf(w, "%s:%d:%d: %s: %s [%s]\n", d.File, d.Range.Start.Line, d.Range.Start.Column, d.Severity, d.Message, d.Code)
			if d.Hint != "" {
				fmt.Fprintf(w, "  hint: %s\n", d.Hint)
			}
		}
		return resp.StatusCode, fmt.Errorf("%s", e.Error)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("reading the server's answer: %v", err)
		}
	}
	return resp.StatusCode, nil
}

// clientExit maps a client error to an exit code: 2 when the server
// refused the request (a flow with errors, something not found), 1 for
// usage, connection or token problems.
func clientExit(code int) int {
	if code == http.StatusUnprocessableEntity || code == http.StatusNotFound || code == http.StatusConflict || code == http.StatusBadRequest {
		return exitFail
	}
	return exitUsage
}
