// Command temporal-config renders the Temporal server image's config template the way the
// image's entrypoint does (dockerize: Go text/template over the container's environment), then
// loads and validates the result with the server's own config loader, and prints what the server
// would run with as JSON. test/infra/temporal-config.test.ts feeds it the environment our task
// definition gives the server container.
//
// Usage: temporal-config <config_template.yaml>   (the environment as a JSON object on stdin)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"go.temporal.io/server/common/config"
)

// dockerize's functions the template uses: `default value fallback` (value first, unlike
// sprig), `split s sep`, `trim`, `lower`.
var funcs = template.FuncMap{
	"default": func(value interface{}, fallback interface{}) interface{} {
		if s, ok := value.(string); ok && s != "" {
			return s
		}
		if value != nil {
			if _, isString := value.(string); !isString {
				return value
			}
		}
		return fallback
	},
	"split": strings.Split,
	"trim":  strings.TrimSpace,
	"lower": strings.ToLower,
}

type sqlSummary struct {
	PluginName             string `json:"pluginName"`
	DatabaseName           string `json:"databaseName"`
	ConnectAddr            string `json:"connectAddr"`
	User                   string `json:"user"`
	PasswordSet            bool   `json:"passwordSet"`
	TLSEnabled             bool   `json:"tlsEnabled"`
	EnableHostVerification bool   `json:"enableHostVerification"`
	MaxConns               int    `json:"maxConns"`
}

type summary struct {
	Error            string                 `json:"error,omitempty"`
	LogLevel         string                 `json:"logLevel"`
	NumHistoryShards int32                  `json:"numHistoryShards"`
	DefaultStore     string                 `json:"defaultStore"`
	VisibilityStore  string                 `json:"visibilityStore"`
	Stores           map[string]*sqlSummary `json:"stores"`
	FrontendGRPCPort int                    `json:"frontendGrpcPort"`
	BroadcastAddress string                 `json:"broadcastAddress"`
}

func run() (*summary, error) {
	if len(os.Args) != 2 {
		return nil, fmt.Errorf("usage: temporal-config <config_template.yaml>")
	}
	var env map[string]string
	if err := json.NewDecoder(os.Stdin).Decode(&env); err != nil {
		return nil, fmt.Errorf("environment on stdin: %w", err)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		return nil, err
	}
	tpl, err := template.New("config_template.yaml").Funcs(funcs).Option("missingkey=zero").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var rendered bytes.Buffer
	if err := tpl.Execute(&rendered, map[string]interface{}{"Env": env}); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	dir, err := os.MkdirTemp("", "temporal-config-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "docker.yaml"), rendered.Bytes(), 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.LoadConfig("docker", dir, "")
	if err != nil {
		return nil, err
	}
	out := &summary{
		LogLevel:         cfg.Log.Level,
		NumHistoryShards: cfg.Persistence.NumHistoryShards,
		DefaultStore:     cfg.Persistence.DefaultStore,
		VisibilityStore:  cfg.Persistence.VisibilityStore,
		Stores:           map[string]*sqlSummary{},
		BroadcastAddress: cfg.Global.Membership.BroadcastAddress,
	}
	if fe, ok := cfg.Services["frontend"]; ok {
		out.FrontendGRPCPort = fe.RPC.GRPCPort
	}
	for name, ds := range cfg.Persistence.DataStores {
		if ds.SQL == nil {
			continue
		}
		s := &sqlSummary{
			PluginName:   ds.SQL.PluginName,
			DatabaseName: ds.SQL.DatabaseName,
			ConnectAddr:  ds.SQL.ConnectAddr,
			User:         ds.SQL.User,
			PasswordSet:  ds.SQL.Password != "",
			MaxConns:     ds.SQL.MaxConns,
		}
		if ds.SQL.TLS != nil {
			s.TLSEnabled = ds.SQL.TLS.Enabled
			s.EnableHostVerification = ds.SQL.TLS.EnableHostVerification
		}
		out.Stores[name] = s
	}
	return out, nil
}

func main() {
	out, err := run()
	if err != nil {
		out = &summary{Error: err.Error()}
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
