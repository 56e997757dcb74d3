#!/usr/bin/env bash
# Builds target/debian/mesos-dns_<version>_amd64.deb from the static musl binary with dpkg-deb alone
# (no cargo-deb to install in CI: the package is six files and three short maintainer scripts).
#
#   contrib/debian/build-deb.sh [BINARY]    (default: target/x86_64-unknown-linux-musl/release/mesos-dns)
#
# Contents: /usr/bin/mesos-dns, /etc/mesos-dns/config.json (a conffile: loopback only until edited),
# /lib/systemd/system/mesos-dns.service, the man page mesos-dns(8) (rendered from the key table and
# the command line by src/config/manual.rs; a test keeps the committed page current) and the copyright.
# The binary checks the packaged config before it is packed: a config it refuses is never shipped.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/contrib/debian
bin=${1:-$root/target/x86_64-unknown-linux-musl/release/mesos-dns}
[[ -x $bin ]] || { echo "no binary at $bin: cargo build --release --target x86_64-unknown-linux-musl" >&2; exit 1; }
# No shared library needed and no program interpreter: a static (or static-pie) executable.
if readelf -d "$bin" | grep -q '(NEEDED)' || readelf -l "$bin" | grep -q 'INTERP'; then
    echo "$bin is dynamically linked: the package ships the static musl build" >&2
    exit 1
fi
version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
"$bin" -version | grep -qx "mesos-dns $version" || { echo "$bin is not version $version" >&2; exit 1; }
env -u RUST_LOG $(env | sed -n 's/^\(MESOS_DNS_[^=]*\)=.*/-u \1/p') \
    "$bin" -check-config -config="$here/config.json" >/dev/null

stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$bin" "$stage/usr/bin/mesos-dns"
install -D -m 0644 "$here/config.json" "$stage/etc/mesos-dns/config.json"
install -D -m 0644 "$here/mesos-dns.service" "$stage/lib/systemd/system/mesos-dns.service"
install -d "$stage/usr/share/man/man8" "$stage/usr/share/doc/mesos-dns" "$stage/DEBIAN"
gzip -9n <"$here/mesos-dns.8" >"$stage/usr/share/man/man8/mesos-dns.8.gz"
install -m 0644 "$here/copyright" "$stage/usr/share/doc/mesos-dns/copyright"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$stage/DEBIAN/$script"
done
echo /etc/mesos-dns/config.json >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: mesos-dns
Version: $version
Architecture: amd64
Maintainer: ${DEB_MAINTAINER:-mesos-dns developers <mesos-dns@localhost>}
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Section: net
Priority: optional
Homepage: https://github.com/mesosphere/mesos-dns
Description: DNS-based service discovery for Apache Mesos
 A drop-in replacement for the Go Mesos-DNS: it names every task, framework
 and agent of a Mesos cluster under a DNS domain (mesos. by default), serves
 those names over UDP and TCP, relays other names to upstream resolvers, and
 serves an HTTP API with Prometheus metrics. A static binary: no libraries.
 .
 The service is installed but not enabled: set the cluster's masters in
 /etc/mesos-dns/config.json, then run systemctl enable --now mesos-dns.
CONTROL

out=$root/target/debian
mkdir -p "$out"
deb=$out/mesos-dns_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
