#!/usr/bin/env bash
# Runs every test suite. On a fresh Debian machine it first installs what the suites need
# (docker.io, busybox-static, prometheus, prometheus-alertmanager, chromium, debootstrap,
# docker-compose, git, logrotate, gcc, the npm packages) and starts dockerd
# when no engine answers. Nothing that needs the engine is skipped: a missing engine fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v ip >/dev/null || need+=(iproute2)          # private engines' bridges
command -v openssl >/dev/null || need+=(openssl)      # throwaway TLS certificates
[ -x /usr/sbin/sshd ] || need+=(openssh-server)      # ssh:// engines (also brings ssh-keygen)
command -v podman >/dev/null || need+=(podman)        # Podman engines
command -v runc >/dev/null || need+=(runc)            # Podman's runtime behind the test wrapper
command -v newuidmap >/dev/null || need+=(uidmap)     # rootless engines' subordinate IDs
command -v rootlesskit >/dev/null || need+=(rootlesskit)  # rootless Docker (dockerd-rootless.sh comes with docker.io)
command -v slirp4netns >/dev/null || need+=(slirp4netns)  # rootless Docker's network
[ -x /usr/bin/chromium ] || need+=(chromium)          # the status page's browser tests (playwright-core drives it)
command -v curl >/dev/null || need+=(curl)            # a gzip reader that stops at the first member
command -v debootstrap >/dev/null || need+=(debootstrap)        # test/deploy: the image's stand-in base
command -v docker-compose >/dev/null || need+=(docker-compose)  # test/deploy: examples/docker-compose.yml
command -v git >/dev/null || need+=(git)                        # test/deploy: npm pack from a fresh clone
[ -x /usr/sbin/logrotate ] || need+=(logrotate)                 # test/faults: SIGHUP and copytruncate with the real logrotate
command -v gcc >/dev/null || need+=(gcc libc6-dev)             # small C test programs: a set-UID flipper, a process started at a chosen PID
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "test/run-all.sh: missing ${need[*]}; install them (as root: apt-get install -y ${need[*]})" >&2; exit 1; fi
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker version >/dev/null 2>&1; then
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]; then
    echo "test/run-all.sh: no engine answers at DOCKER_HOST=${DOCKER_HOST}" >&2; exit 1
  fi
  echo "starting dockerd"
  mkdir -p /tmp/docker-monitor-test
  # The Debian service manager does not run here; dockerd goes in the background for the test run.
  (setsid dockerd >/tmp/docker-monitor-test/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; its log:" >&2; tail -n 30 /tmp/docker-monitor-test/dockerd.log >&2; exit 1; }
fi

[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run build --silent
npm run typecheck --silent
npm run lint --silent

files=$(find test -name '*.test.ts' | sort)
if [ -n "${TEST_FILTER:-}" ]; then files=$(echo "$files" | grep -E "$TEST_FILTER" || true); fi
# One file at a time: the integration suites share one engine and one machine's two cores.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec $files
