#!/usr/bin/env bash
# Installs the Debian packages the interop tests and benchmarks drive (needs root, as on CI).
set -euo pipefail
pkgs=(iproute2 time g++ make python3 systemd libcap2-bin util-linux bind9 bind9-utils bind9-dnsutils knot knot-dnsutils knot-dnssecutils nsd unbound ldnsutils dnsperf nghttp2-client python3-dnspython prometheus openssl dns-root-data samba samba-common-bin curl libmaxmind-db-writer-perl nftables conntrack fstrm-bin dnstap-ldns chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # samba's nmbd must never start on the host's interfaces (it broadcasts): deny service starts
  # during the install when nothing else does (the NetBIOS tests run nmbd in namespaces they create).
  added_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=yes
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$added_policy" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
# Debian starts none of these here (no systemd); tests run them in the foreground themselves.
