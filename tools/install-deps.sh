#!/usr/bin/env bash
# Installs the system packages eic needs to build and test on Debian 12.
# Idempotent: does nothing (and needs no root) when every package is present.
set -euo pipefail
packages=(build-essential cmake pkg-config flex bison llvm-19-dev check clang libclang-rt-14-dev python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "eic: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
