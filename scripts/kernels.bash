#!/usr/bin/env bash
# scripts/kernels.bash: the supported kernels, read from kernels.conf.
#
# A kernel is named by its entry's name: SERIES for the cloud flavour
# (6.12), SERIES-FLAVOUR for the others (6.12-rt); see kernels.conf.
# Sourced by the scripts (. scripts/kernels.bash), it defines:
#   kernels_supported           print the supported kernels' names, one line
#   kernels_default             print the default ones' names, one line
#   kernels_full [NAME...]      print those of the names (default: the
#                               default ones) whose SUITE is full or debug,
#                               one line (the full BATS suite: make check,
#                               make bench)
#   kernels_stress [NAME...]    print those of the names whose SUITE is full
#                               or debug; without names, the default full
#                               ones and every debug one (make stress)
#   kernel_suite NAME           print its SUITE: full, portability or debug
#   kernel_reference            print the REFERENCE kernel's name (vmlinux.h,
#                               checkpatch.pl)
#   kernel_known NAME           true if NAME is supported
#   kernel_check WHO NAME...    true if all are supported, else a message
#                               "WHO: unsupported kernel 'X' (supported: ...)"
#                               on stderr and false
#   kernel_load NAME            set K_NAME K_SERIES K_FLAVOUR K_SUFFIX
#                               K_DEFAULT K_ARCHIVE K_PACKAGING K_KBUILD
#                               K_LAYOUT K_BUILDROOT K_EXTMOD K_REFERENCE
#                               K_SUITE
#                               (see kernels.conf; K_SUFFIX is the package
#                               names' and kernel release's suffix:
#                               cloud-amd64, rt-amd64, amd64 for generic);
#                               false if unknown
# Executed: `kernels.bash supported|default|reference|full|stress [NAME...]` prints the list (the Makefile
# reads it so; exit 1 when kernels.conf is malformed), `kernels.bash check
# WHO NAME...` exits 0 or 2.
KERNELS_CONF=${KERNELS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/kernels.conf}

# the entries, one line each: NAME, then kernels.conf's fields (SERIES
# FLAVOUR DEFAULT ... REFERENCE); a malformed line or a name given twice is
# reported on stderr and nothing is printed
_kernels_table() {
	[ -r "$KERNELS_CONF" ] || { echo "kernels: cannot read $KERNELS_CONF" >&2; return 1; }
	awk -v conf="$KERNELS_CONF" '
	function bad(why) { printf "kernels: %s:%d: %s\n", conf, FNR, why > "/dev/stderr"; err = 1 }
	{ sub(/#.*/, "") }
	NF == 0 { next }
	NF != 11 { bad("11 fields expected, not " NF); next }
	$1 !~ /^[0-9]+[.][0-9]+$/ { bad("bad SERIES \"" $1 "\""); next }
	$2 !~ /^[a-z]+$/ { bad("bad FLAVOUR \"" $2 "\""); next }
	$11 !~ /^(full|portability|debug)$/ { bad("bad SUITE \"" $11 "\" (full, portability or debug)"); next }
	{
		name = $2 == "cloud" ? $1 : $1 "-" $2
		if (name in seen) { bad("kernel " name " listed twice"); next }
		seen[name] = 1
		line[++n] = name " " $0
	}
	END {
		if (err) exit 1
		for (i = 1; i <= n; i++) { $0 = line[i]; $1 = $1; print }
	}' "$KERNELS_CONF"
}

kernels_supported() {
	_kernels_table | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernels_default() {
	_kernels_table | awk '$4 == "yes" { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernels_full() {
	local names
	names=${*:-$(kernels_default)}
	_kernels_table | awk -v names=" $names " '($12 == "full" || $12 == "debug") && index(names, " " $1 " ") { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernels_stress() {
	if [ $# -gt 0 ]; then
		kernels_full "$@"
		return
	fi
	_kernels_table | awk '($4 == "yes" && $12 == "full") || $12 == "debug" { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

kernel_suite() {
	_kernels_table | awk -v k="$1" '$1 "" == k "" { print $12; found = 1 } END { exit !found }'
}

kernel_reference() {
	local r
	r=$(_kernels_table | awk '$11 == "yes" { print $1 }')
	[ "$(wc -w <<<"$r")" = 1 ] || { echo "kernels: kernels.conf must name one REFERENCE kernel, not '$r'" >&2; return 1; }
	echo "$r"
}

kernel_known() {
	[[ ${1:-} =~ ^[0-9]+\.[0-9]+(-[a-z]+)?$ ]] || return 1
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
	read -r K_NAME K_SERIES K_FLAVOUR K_DEFAULT K_ARCHIVE K_PACKAGING K_KBUILD K_LAYOUT K_BUILDROOT \
		K_EXTMOD K_REFERENCE K_SUITE <<<"$line"
	# shellcheck disable=SC2034 # as above
	case $K_FLAVOUR in
	generic) K_SUFFIX=amd64 ;;
	*) K_SUFFIX=$K_FLAVOUR-amd64 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	supported) _kernels_table >/dev/null && kernels_supported ;;
	default) _kernels_table >/dev/null && kernels_default ;;
	full) shift; _kernels_table >/dev/null && kernels_full "$@" ;;
	stress) shift; _kernels_table >/dev/null && kernels_stress "$@" ;;
	reference) kernel_reference || exit 1 ;;
	check) shift; who=${1:-kernels}; shift; kernel_check "$who" "$@" || exit 2 ;;
	*) echo "usage: kernels.bash supported|default|reference|full|stress [NAME...]|check WHO NAME..." >&2; exit 2 ;;
	esac
fi
