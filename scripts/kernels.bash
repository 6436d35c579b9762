#!/usr/bin/env bash
# scripts/kernels.bash: the supported kernels, read from kernels.conf.
#
# Sourced by the scripts (. scripts/kernels.bash), it defines:
#   kernels_supported           print the supported series, one line
#   kernels_default             print the default series, one line
#   kernel_reference            print the REFERENCE series (vmlinux.h,
#                               checkpatch.pl)
#   kernel_known SERIES         true if SERIES is supported
#   kernel_check WHO SERIES...  true if all are supported, else a message
#                               "WHO: unsupported kernel 'X' (supported: ...)"
#                               on stderr and false
#   kernel_load SERIES          set K_SERIES K_DEFAULT K_ARCHIVE K_PACKAGING
#                               K_KBUILD K_LAYOUT K_BUILDROOT K_EXTMOD
#                               K_REFERENCE
#                               (see kernels.conf); false if unknown
# Executed: `kernels.bash supported|default|reference` prints the list (the Makefile
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

kernel_reference() {
	local r
	r=$(_kernels_table | awk '$9 == "yes" { print $1 }')
	[ "$(wc -w <<<"$r")" = 1 ] || { echo "kernels: kernels.conf must name one REFERENCE kernel, not '$r'" >&2; return 1; }
	echo "$r"
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
	read -r K_SERIES K_DEFAULT K_ARCHIVE K_PACKAGING K_KBUILD K_LAYOUT K_BUILDROOT K_EXTMOD K_REFERENCE <<<"$line"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	supported) kernels_supported ;;
	default) kernels_default ;;
	reference) kernel_reference || exit 1 ;;
	check) shift; who=${1:-kernels}; shift; kernel_check "$who" "$@" || exit 2 ;;
	*) echo "usage: kernels.bash supported|default|reference|check WHO SERIES..." >&2; exit 2 ;;
	esac
fi
