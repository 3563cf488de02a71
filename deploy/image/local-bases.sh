#!/usr/bin/env bash
# local-bases.sh: builds, with buildah and without any container registry, the
# two base images the Dockerfile names in its GO_IMAGE and RUNTIME_IMAGE build
# arguments, and stores them in the local container storage (the one podman
# and buildah share):
#
#   GO_BASE       Debian (debootstrap from DEBIAN_MIRROR) with make, git and
#                 CA certificates, and the Go toolchain copied from GOROOT_SRC
#                 to /usr/local/go; GOPATH=/go, as in the golang images.
#   RUNTIME_BASE  no distribution at all, like distroless "static": /etc/passwd
#                 and /etc/group with root, nobody and nonroot (65532), CA
#                 certificates and time zone data from the same Debian, /tmp;
#                 no shell, no package manager, user 65532.
#
# Needs root (debootstrap, buildah mount), buildah and debootstrap, and a
# Debian mirror. An image that already exists is kept: REBUILD=1 replaces it.
# `make image-offline` runs this script, then builds the Dockerfile with them.
#
# Settings, from the environment:
#   DEBIAN_MIRROR   default http://deb.debian.org/debian
#   DEBIAN_SUITE    default bookworm
#   GOROOT_SRC      default $(go env GOROOT)
#   GO_BASE         default localhost/tenure-go:<go version>-<suite>
#   RUNTIME_BASE    default localhost/tenure-static:nonroot
#   BUILD_CA_CERTS  PEM files, separated by spaces, that the build stage
#                   trusts besides Debian's CA certificates: the CA of a private
#                   module proxy, or of a proxy that re-signs TLS. The runtime
#                   image does not get them.
#   REBUILD         1 to rebuild images that exist
#
# It prints the two image names as the build arguments to pass:
#   GO_IMAGE=localhost/tenure-go:1.26.8-bookworm
#   RUNTIME_IMAGE=localhost/tenure-static:nonroot
set -euo pipefail

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
GOROOT_SRC=${GOROOT_SRC:-$(go env GOROOT)}
GO_VERSION=$("$GOROOT_SRC/bin/go" env GOVERSION)
GO_BASE=${GO_BASE:-localhost/tenure-go:${GO_VERSION#go}-$DEBIAN_SUITE}
RUNTIME_BASE=${RUNTIME_BASE:-localhost/tenure-static:nonroot}
BUILD_CA_CERTS=${BUILD_CA_CERTS:-}
REBUILD=${REBUILD:-0}
NONROOT=65532

log() { echo "local-bases: $*" >&2; }

have_image() {
	[[ $REBUILD != 1 ]] && buildah inspect --type image "$1" >/dev/null 2>&1
}

# The working containers and the directory this run created, removed on exit
# whatever happens.
containers=()
work=
cleanup() {
	for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
	if [[ -n $work ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# debian_rootfs DIR: a minimal Debian with what the build stage runs (make;
# git for modules fetched direct; CA certificates for the module proxy) and
# tzdata for the runtime image, without the package caches.
debian_rootfs() {
	local root=$1
	log "debootstrap $DEBIAN_SUITE from $DEBIAN_MIRROR"
	debootstrap --variant=minbase --include=make,git,ca-certificates,tzdata \
		"$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >&2
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}

# add_ca_certs ROOT: BUILD_CA_CERTS into the CA bundle of the Debian in ROOT.
add_ca_certs() {
	local root=$1 pem
	[[ -n $BUILD_CA_CERTS ]] || return 0
	for pem in $BUILD_CA_CERTS; do
		log "trusting $pem in the build stage"
		cp "$pem" "$root/usr/local/share/ca-certificates/$(basename "${pem%.*}").crt"
	done
	chroot "$root" update-ca-certificates >&2
}

# build_go_base DIR: DIR holds a Debian root filesystem; the image adds Go.
build_go_base() {
	local root=$1 c mnt
	c=$(buildah from scratch)
	containers+=("$c")
	mnt=$(buildah mount "$c")
	log "copying $GO_VERSION from $GOROOT_SRC"
	cp -a "$root"/. "$mnt"/
	mkdir -p "$mnt/usr/local/go" "$mnt/go/bin" "$mnt/go/src"
	cp -a "$GOROOT_SRC"/. "$mnt/usr/local/go"/
	chmod 1777 "$mnt/go"
	add_ca_certs "$mnt"
	buildah config \
		--env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--env GOPATH=/go --env GOLANG_VERSION="${GO_VERSION#go}" \
		--workingdir /go --cmd bash \
		--label org.opencontainers.image.description="Debian $DEBIAN_SUITE with $GO_VERSION, for Tenure's build stage" \
		"$c"
	buildah commit --quiet --rm "$c" "$GO_BASE" >/dev/null
}

# build_runtime_base DIR: the files of a distroless static image, taken from
# the Debian root filesystem in DIR.
build_runtime_base() {
	local root=$1 c mnt
	c=$(buildah from scratch)
	containers+=("$c")
	mnt=$(buildah mount "$c")
	install -d -m 0755 "$mnt"/etc/ssl/certs "$mnt"/usr/share
	install -d -m 0700 "$mnt"/root
	install -d -m 0700 -o $NONROOT -g $NONROOT "$mnt"/home/nonroot
	install -d -m 1777 "$mnt"/tmp
	cat >"$mnt"/etc/passwd <<-EOF
		root:x:0:0:root:/root:/sbin/nologin
		nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
		nonroot:x:$NONROOT:$NONROOT:nonroot:/home/nonroot:/sbin/nologin
	EOF
	cat >"$mnt"/etc/group <<-EOF
		root:x:0:
		nobody:x:65534:
		nonroot:x:$NONROOT:
	EOF
	echo 'hosts: files dns' >"$mnt"/etc/nsswitch.conf
	cp -L "$root"/etc/ssl/certs/ca-certificates.crt "$mnt"/etc/ssl/certs/
	cp -a "$root"/usr/share/zoneinfo "$mnt"/usr/share/
	buildah config \
		--env PATH=/usr/local/bin:/usr/bin:/bin \
		--env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
		--user $NONROOT:$NONROOT --workingdir /home/nonroot \
		--label org.opencontainers.image.description="static runtime base (CA certificates, tzdata, nonroot $NONROOT, no shell) from Debian $DEBIAN_SUITE" \
		"$c"
	buildah commit --quiet --rm "$c" "$RUNTIME_BASE" >/dev/null
}

main() {
	if [[ $(id -u) != 0 ]]; then
		log "run as root: debootstrap and buildah mount need it"
		exit 1
	fi
	if ! have_image "$GO_BASE" || ! have_image "$RUNTIME_BASE"; then
		work=$(mktemp -d)
		debian_rootfs "$work/rootfs"
		have_image "$GO_BASE" || { build_go_base "$work/rootfs" && log "built $GO_BASE"; }
		have_image "$RUNTIME_BASE" || { build_runtime_base "$work/rootfs" && log "built $RUNTIME_BASE"; }
	else
		log "$GO_BASE and $RUNTIME_BASE exist (REBUILD=1 replaces them)"
	fi
	echo "GO_IMAGE=$GO_BASE"
	echo "RUNTIME_IMAGE=$RUNTIME_BASE"
}

main "$@"
