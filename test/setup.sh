#!/usr/bin/env bash
# Installs the real tools the tests drive, from Debian, when they are missing.
# Runs as root in CI; elsewhere it prints what to install and carries on.
set -euo pipefail
need=()
for pair in strace:strace skopeo:skopeo podman:podman buildah:buildah umoci:umoci ctr:containerd containerd:containerd \
            docker-registry:docker-registry htpasswd:apache2-utils wrk:wrk pg_ctlcluster:postgresql-common \
            initdb:postgresql gpg:gnupg openssl:openssl go:golang-go zstd:zstd python3:python3 prometheus:prometheus promtool:prometheus script:bsdutils chromium:chromium tmux:tmux; do
  bin=${pair%%:*}; pkg=${pair##*:}
  if ! command -v "$bin" >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/"$bin" >/dev/null 2>&1; then
    need+=("$pkg")
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  if [ "$(id -u)" = 0 ]; then
    echo "test setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" skopeo podman buildah umoci containerd >/dev/null
  else
    echo "test setup: missing ${need[*]}; install with: sudo apt-get install -y ${need[*]}" >&2
  fi
fi
