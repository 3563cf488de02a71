#!/usr/bin/env bash
# check.sh IMAGE COMMAND...: checks a built Tenure image with buildah, without
# a docker daemon: it runs as 65532:65532 with no shell; each COMMAND is in
# /usr/local/bin, a static executable, and answers -h when run in the image as
# its user; profile starts in /data with its default SQLite database, which is
# created owned by 65532. `make image-check` passes the image's commands.
#
# Needs root (buildah mount), buildah, ldd, and the port PROFILE_PORT (19101)
# free on loopback: buildah runs the commands with chroot isolation, which
# shares the host's network.
set -euo pipefail

image=${1:?usage: check.sh IMAGE COMMAND...}
shift
PROFILE_PORT=${PROFILE_PORT:-19101}
NONROOT=65532:65532

fail() { echo "image-check: $*" >&2; exit 1; }
pass() { echo "image-check: $*"; }

c=$(buildah from --pull=never "$image")
trap 'buildah rm "$c" >/dev/null' EXIT
mnt=$(buildah mount "$c")
run() { buildah run --isolation chroot "$c" -- "$@"; }

check_config() {
	local user workdir
	user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
	workdir=$(buildah inspect --type image --format '{{.OCIv1.Config.WorkingDir}}' "$image")
	[[ $user == "$NONROOT" ]] || fail "user is $user, want $NONROOT"
	[[ $workdir == /data ]] || fail "working directory is $workdir, want /data"
	[[ $(stat -c %u:%g "$mnt/data") == "$NONROOT" ]] || fail "/data is owned by $(stat -c %u:%g "$mnt/data"), want $NONROOT"
	pass "user $user, working directory $workdir owned by $NONROOT"
}

check_no_shell() {
	local sh
	for sh in bin/sh bin/bash bin/dash bin/ash bin/busybox usr/bin/sh usr/bin/bash; do
		if [[ -e $mnt/$sh || -L $mnt/$sh ]]; then fail "/$sh exists"; fi
	done
	pass "no shell"
}

check_command() {
	local cmd=$1 bin=$mnt/usr/local/bin/$1 out
	[[ -x $bin ]] || fail "/usr/local/bin/$cmd is missing"
	if out=$(ldd "$bin" 2>&1); then fail "$cmd is dynamically linked: $out"; fi
	out=$(run "/usr/local/bin/$cmd" -h 2>&1) || fail "$cmd -h failed: $out"
	grep -qi 'usage' <<<"$out" || fail "$cmd -h printed no usage: $out"
	pass "$cmd: static ($(du -h "$bin" | cut -f1)), -h prints its usage"
}

# check_profile_runs: profile starts as the image's user and creates its
# SQLite database under /data.
check_profile_runs() {
	local pid db=$mnt/data/data/profile.db log i
	log=$(mktemp)
	# buildah run does not pass signals on: a session of its own lets the
	# whole process group (buildah, its chroot helper, profile) be stopped.
	setsid buildah run --isolation chroot "$c" -- /usr/local/bin/profile \
		-listen "127.0.0.1:$PROFILE_PORT" >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 120; i++)); do
		if [[ -e $db ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PROFILE_PORT") 2>/dev/null; then break; fi
		kill -0 "$pid" 2>/dev/null || fail "profile exited before listening: $(cat "$log")"
		sleep 0.5
	done
	kill -TERM -- "-$pid" 2>/dev/null || true
	wait "$pid" || true
	rm -f "$log"
	[[ -e $db ]] || fail "profile did not create /data/data/profile.db"
	[[ $(stat -c %u:%g "$db") == "$NONROOT" ]] || fail "profile.db is owned by $(stat -c %u:%g "$db"), want $NONROOT"
	pass "profile listened on 127.0.0.1:$PROFILE_PORT and created /data/data/profile.db as $NONROOT"
}

check_config
check_no_shell
for cmd in "$@"; do check_command "$cmd"; done
check_profile_runs
pass "$image: $(buildah images --format '{{.Size}}' "$image")"
