#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine, and nothing when it is already there:
#  - PostgreSQL and Prometheus (with promtool) from Debian's packages;
#  - moto's server (S3, CloudFormation) from PyPI, for the knowledge-base tests;
#  - the Temporal CLI dev server, built from source with the Go module proxy (v1.5.1 is the last
#    release `go install` accepts; later ones carry a replace directive).
# Idempotent and quick on a machine that has them. Tests start their own server instances.
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
log() { printf 'provision: %s\n' "$*" >&2; }

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)

if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${need_apt[*]}; run as root, or: sudo apt-get install -y --no-install-recommends ${need_apt[*]}"
    exit 1
  fi
  log "installing ${need_apt[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: prometheus would otherwise pull node-exporter and hardware tools.
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# moto's server (PyPI) is the local S3 and CloudFormation the knowledge-base tests use
# (docs/knowledge-base.md says why moto rather than an npm S3 stand-in).
MOTO_VERSION="${MOTO_VERSION:-5.2.1}"
# Tests start it as `python3 -m moto.server`, so no console-script shim is needed on PATH.
if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
  if ! command -v python3 >/dev/null 2>&1; then
    log "moto (python3 -m moto.server) is missing and python3 is not installed to install it"
    exit 1
  fi
  log "installing moto[server]==${MOTO_VERSION} (pip)"
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION}"
fi

temporal_bin() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "${TEMPORAL_CLI_PATH}" ]; then echo "${TEMPORAL_CLI_PATH}"; return; fi
  if command -v temporal >/dev/null 2>&1; then command -v temporal; return; fi
  if command -v go >/dev/null 2>&1; then
    local gobin
    gobin="$(go env GOBIN)"; [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
    if [ -x "$gobin/temporal" ]; then echo "$gobin/temporal"; return; fi
  fi
  return 1
}

if ! temporal_bin >/dev/null; then
  if ! command -v go >/dev/null 2>&1; then
    log "the Temporal CLI is missing and Go is not installed to build it"
    exit 1
  fi
  log "building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (a few minutes, once)"
  go install "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}"
fi
log "ready: $(temporal_bin) ; $(command -v prometheus) ; $(ls -d /usr/lib/postgresql/*/bin | head -n1) ; moto $(python3 -c 'import moto; print(moto.__version__)')"
