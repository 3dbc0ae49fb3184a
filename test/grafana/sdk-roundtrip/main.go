// Command sdk-roundtrip decodes dashboard JSON files with the Grafana Foundation SDK's strict
// decoder (generated from the same schema as the TypeScript builders) and prints, for each file,
// what the SDK reads back, re-encoded: a field the schema does not know, a wrong type or a
// missing required field is an error naming the file.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

type result struct {
	File      string          `json:"file"`
	Error     string          `json:"error,omitempty"`
	RoundTrip json.RawMessage `json:"roundTrip,omitempty"`
}

func main() {
	// Registers the core panel and data-query variants, so panel options and Prometheus targets
	// are decoded strictly into their types instead of generic maps.
	plugins.RegisterDefaultPlugins()
	out := make([]result, 0, len(os.Args)-1)
	for _, file := range os.Args[1:] {
		out = append(out, check(file))
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func check(file string) result {
	raw, err := os.ReadFile(file)
	if err != nil {
		return result{File: file, Error: err.Error()}
	}
	var d dashboard.Dashboard
	if err := d.UnmarshalJSONStrict(raw); failed(err) {
		return result{File: file, Error: err.Error()}
	}
	if err := d.Validate(); failed(err) {
		return result{File: file, Error: err.Error()}
	}
	// The strict decoder validated everything, but it drops union values (panels, value
	// mappings) when they decode cleanly: their decoders return an empty error list as a non-nil
	// error, which the caller takes for a failure (SDK v0.0.22). The plain decoder fills the same
	// typed structs without that bug, so the round trip is taken through it.
	var typed dashboard.Dashboard
	if err := json.Unmarshal(raw, &typed); err != nil {
		return result{File: file, Error: err.Error()}
	}
	back, err := json.Marshal(typed)
	if err != nil {
		return result{File: file, Error: err.Error()}
	}
	return result{File: file, RoundTrip: back}
}

// failed reports a real error. The SDK returns its error list as `error` even when the list is
// empty (a nil slice in a non-nil interface), so `err != nil` alone would fail every dashboard.
func failed(err error) bool {
	if err == nil {
		return false
	}
	var list cog.BuildErrors
	if errors.As(err, &list) {
		return len(list) > 0
	}
	return true
}
