#!/usr/bin/env bash
# install-peers.sh - installs the simulators eic is compared with in bench/
# (Brian2 2.5 from Debian, with the C++ compiler its cpp_standalone device
# needs). Not needed by `make build` or `make test`; run it once before
# bench/brian_compare.sh. Needs root (apt-get).
set -eu
if /usr/bin/python3 -c 'import brian2' 2>/dev/null; then
  echo "brian2 $(/usr/bin/python3 -c 'import brian2; print(brian2.__version__)') already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends python3-brian g++ make
/usr/bin/python3 -c 'import brian2; print("brian2", brian2.__version__)'
