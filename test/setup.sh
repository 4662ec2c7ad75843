#!/usr/bin/env bash
# Installs the real tools the tests drive, from Debian, when they are missing.
# Runs as root in CI; elsewhere it prints what to install and carries on.
set -euo pipefail

# install_missing "APT FLAGS" "EXTRA PACKAGES" bin:package...
install_missing() {
  local flags=$1 extra=$2 need=() pair bin pkg
  shift 2
  for pair in "$@"; do
    bin=${pair%%:*}; pkg=${pair##*:}
    if ! command -v "$bin" >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/"$bin" >/dev/null 2>&1; then
      need+=("$pkg")
    fi
  done
  [ ${#need[@]} -gt 0 ] || return 0
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  if [ "$(id -u)" = 0 ]; then
    echo "test setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $flags "${need[@]}" $extra >/dev/null
  else
    echo "test setup: missing ${need[*]}; install with: sudo apt-get install -y $flags ${need[*]}" >&2
  fi
}

install_missing "" "skopeo podman buildah umoci containerd" \
  strace:strace skopeo:skopeo podman:podman buildah:buildah umoci:umoci ctr:containerd containerd:containerd \
  docker-registry:docker-registry htpasswd:apache2-utils wrk:wrk pg_ctlcluster:postgresql-common \
  initdb:postgresql gpg:gnupg openssl:openssl go:golang-go zstd:zstd python3:python3 prometheus:prometheus promtool:prometheus script:bsdutils chromium:chromium tmux:tmux
# Ceph 16 for the RADOS Gateway pass (npm run test:rgw, test/helpers/rgw.ts): about
# 60 MB to download and 265 MB installed without the recommended extras.
install_missing "--no-install-recommends" "" ceph-mon:ceph-mon ceph-osd:ceph-osd ceph:ceph-common radosgw:radosgw
