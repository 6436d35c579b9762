#!/usr/bin/env bash
# scripts/kernels.bash: the supported kernels, read from kernels.conf.
#
# Sourced by the scripts (. scripts/kernels.bash), it defines:
#   kernels_supported           print the supported series, one line
#   kernels_default             print the default series, one line
#   kernel_known SERIES         true if SERIES is supported
#   kernel_check WHO SERIES...  true if all are supported, else a message
#                               "WHO: unsupported kernel 'X' (supported: ...)"
#                               on stderr and false
#   kernel_load SERIES          set K_SERIES K_DEFAULT K_ARCHIVE K_PACKAGING
#                               K_KBUILD K_LAYOUT K_BUILDROOT K_EXTMOD
#                               (see kernels.conf); false if unknown
#   archive_uri                 the Debian archive's URI from the system's apt
#                               sources (not the security archive)
#   apt_private SUITE DIR       fill the array APT_PRIVATE with the apt -o
#                               options of a private configuration in DIR
#                               that reads SUITE only (written if missing)
#   apt_private_update SUITE DIR [MAX_AGE_S]  apt-get update it when its
#                               lists are missing or older than MAX_AGE_S
#                               (default 86400; APT_REFRESH=1 forces), under
#                               a lock; a failed update with old lists warns
# Executed: `kernels.bash supported|default` prints the list (the Makefile
# reads it so), `kernels.bash check WHO SERIES...` exits 0 or 2.
KERNELS_CONF=${KERNELS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/kernels.conf}

_kernels_table() {
	[ -r "$KERNELS_CONF" ] || { echo "kernels: cannot read $KERNELS_CONF" >&2; return 1; }
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$KERNELS_CONF"
}

kernels_supported() {
	_kernels_table | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernels_default() {
	_kernels_table | awk '$2 == "yes" { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernel_known() {
	[[ ${1:-} =~ ^[0-9]+\.[0-9]+$ ]] || return 1
	# compared as strings: awk would take " 6.1" or 6.10 for 6.1 as numbers
	_kernels_table | awk -v k="$1" '$1 "" == k "" { found = 1 } END { exit !found }'
}

kernel_check() {
	local who=$1 k
	shift
	for k in "$@"; do
		if ! kernel_known "$k"; then
			echo "$who: unsupported kernel '$k' (supported: $(kernels_supported))" >&2
			return 1
		fi
	done
}

kernel_load() {
	local line
	kernel_known "${1:-}" || return 1
	line=$(_kernels_table | awk -v k="$1" '$1 "" == k "" { print; exit }')
	[ -n "$line" ] || return 1
	# shellcheck disable=SC2034 # used by the scripts that source this file
	read -r K_SERIES K_DEFAULT K_ARCHIVE K_PACKAGING K_KBUILD K_LAYOUT K_BUILDROOT K_EXTMOD <<<"$line"
}

archive_uri() {
	local uri
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
	[ -n "$uri" ] || { echo "kernels: no Debian archive in the system's apt sources" >&2; return 1; }
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
			echo "kernels: apt-get update of $suite failed, using the lists of $(date -r "$stamp" '+%F %T') ($dir/update.log)" >&2
		else
			echo "kernels: apt-get update of $suite failed ($dir/update.log):" >&2
			tail -n 5 "$dir/update.log" >&2
			exit 1
		fi
	) 9>"$dir/lock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	supported) kernels_supported ;;
	default) kernels_default ;;
	check) shift; who=${1:-kernels}; shift; kernel_check "$who" "$@" || exit 2 ;;
	*) echo "usage: kernels.bash supported|default|check WHO SERIES..." >&2; exit 2 ;;
	esac
fi
