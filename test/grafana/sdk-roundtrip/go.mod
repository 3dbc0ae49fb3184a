module github.com/temporal-sre-copilot/grafana-sdk-roundtrip

go 1.23

require github.com/grafana/grafana-foundation-sdk/go v0.0.22
