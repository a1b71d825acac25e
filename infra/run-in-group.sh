#!/usr/bin/env bash
# Run a long-lived server (dagster dev, airflow standalone) in its own process group and stop the
# whole group on exit or Ctrl-C: both spawn children that would otherwise be orphaned.
set -euo pipefail
setsid "$@" &
leader=$!
stop() { kill -TERM -- "-$leader" 2>/dev/null || true; sleep 3; kill -KILL -- "-$leader" 2>/dev/null || true; }
trap stop EXIT INT TERM
wait "$leader"
