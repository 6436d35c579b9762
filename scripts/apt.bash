#!/usr/bin/env bash
# scripts/apt.bash: reading Debian's archive without touching the system's
# apt configuration: the archive's URI, and a private configuration per
# suite (sid) whose lists live under build/.  Kernel packages are fetched
# with apt-get download through it, never installed.
#
# Sourced by the scripts (. scripts/apt.bash), it defines:
#   archive_uri                 the Debian archive's URI from the system's apt
#                               sources (not the security archive)
#   apt_private SUITE DIR       fill the array APT_PRIVATE with the apt -o
#                               options of a private configuration in DIR
#                               that reads SUITE only (written if missing)
#   apt_private_update SUITE DIR [MAX_AGE_S]  apt-get update it when its
#                               lists are missing or older than MAX_AGE_S
#                               (default 86400; APT_REFRESH=1 forces), under
#                               a lock; a failed update with old lists warns

archive_uri() {
	local uri
	# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
	uri=$(apt-get indextargets --format '$(REPO_URI) $(LABEL)' 'Created-By: Packages' 2>/dev/null |
		awk '$2 == "Debian" { print $1; exit }')
	if [ -z "$uri" ]; then # lists not downloaded yet: the sources themselves
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\)[[:space:]].*/\2/p' |
			grep -v security | head -n 1)
	fi
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' |
			tr ' ' '\n' | grep -v security | grep . | head -n 1)
	fi
	[ -n "$uri" ] || { echo "apt: no Debian archive in the system's apt sources" >&2; return 1; }
	echo "${uri%/}"
}

apt_private() {
	local suite=$1 dir uri
	dir=$(realpath -m "$2")
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d" || return 1
	if [ ! -s "$dir/sources.list" ]; then
		uri=$(archive_uri) || return 1
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
			>"$dir/sources.list.tmp.$$" && mv "$dir/sources.list.tmp.$$" "$dir/sources.list"
	fi
	# no status file: nothing installed is taken into account, nor changed
	: >"$dir/status"
	APT_PRIVATE=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=$dir/sources.list.d"
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "Dir::Cache::pkgcache=$dir/cache/pkgcache.bin" -o Dir::Cache::srcpkgcache=
		-o "Dir::State::status=$dir/status"
		-o APT::Sandbox::User=root)
}

apt_private_update() {
	local suite=$1 dir=$2 max=${3:-86400} stamp now age
	apt_private "$suite" "$dir" || return 1
	stamp=$dir/lists/.updated
	(
		flock 9
		if [ -f "$stamp" ] && [ "${APT_REFRESH:-0}" != 1 ]; then
			now=$(date +%s) age=$((now - $(stat -c %Y "$stamp")))
			[ "$age" -lt "$max" ] && exit 0
		fi
		if apt-get "${APT_PRIVATE[@]}" -q update >"$dir/update.log" 2>&1 &&
			! grep -q '^\(W\|E\): ' "$dir/update.log"; then
			touch "$stamp"
		elif [ -f "$stamp" ]; then
			echo "apt: apt-get update of $suite failed, using the lists of $(date -r "$stamp" '+%F %T') ($dir/update.log)" >&2
		else
			echo "apt: apt-get update of $suite failed ($dir/update.log):" >&2
			tail -n 5 "$dir/update.log" >&2
			exit 1
		fi
	) 9>"$dir/lock"
}
