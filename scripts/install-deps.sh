#!/usr/bin/env bash
# Installs what Hera needs to build and test, from Debian's apt and the npm registry only.
# Idempotent: asks apt only for packages that are missing, and is quiet when all are there.
# Usage: scripts/install-deps.sh [--fuzz]
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config ninja-build
  # libraries (DESIGN.md §4)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libboost1.81-dev libsqlite3-dev libpq-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev libcurl4-openssl-dev libsodium-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 procps
  # run-as tests (tests/integration/test_job_types.py): jobs run through sudo -u
  sudo
)
# `--fuzz`: clang and its libFuzzer runtime, for the fuzz preset only.
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Web UI dependencies, once there is a web app.
top=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f "$top/web/package-lock.json" && ! -d "$top/web/node_modules" ]]; then
  (cd "$top/web" && npm ci --no-audit --no-fund --loglevel=error)
fi
