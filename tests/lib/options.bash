# tests/lib/options.bash: biostat's options as each place that lists them
# has them, one "OPTION arg" or "OPTION flag" line each, sorted, for the
# host tests to compare with argp's own listing of its option tables
# (biostat --help, biostat check --help, read by help_opts): the man
# page's lists of options and its SYNOPSIS (tests/host/biostat-host.bats),
# the bash completion's lists (tests/host/install.bats).  And where the
# check subcommand stands: the cases, and biostat's reading of them, which
# both files compare with (biostat, and the completion).  And bad input
# refused as biostat(8) promises, for the host and the guest tests
# (init.bash loads this file too).
# shellcheck shell=bash

# refused_in_one_line CMD ARGS...: CMD ARGS exits 2 with one line on
# stderr, "biostat: ...", and nothing on stdout; else what it did
# shellcheck disable=SC2154 # status, stderr, stderr_lines and output: set by run
refused_in_one_line() {
	run --separate-stderr "$@"
	echo "$* -> $status: $stderr"
	[ "$status" -eq 2 ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
		[[ $stderr == biostat:* ]] && [ -z "$output" ] && return 0
	echo "$*: exit $status with ${#stderr_lines[@]} line(s) on stderr and '$output' on stdout," \
		"expected exit 2, one line 'biostat: ...' and nothing" >&2
	return 1
}

# same_opts WHAT EXPECTED ACTUAL: two "OPTION arg|flag" lists are the same,
# else both, and what differs, on stderr
same_opts() {
	[ "$2" = "$3" ] && return 0
	{
		echo "$1 differs from argp's option table:"
		# shellcheck disable=SC2086 # one line
		echo "expected (argp): $(echo $2)"
		# shellcheck disable=SC2086
		echo "actual:          $(echo $3)"
		diff <(echo "$2") <(echo "$3") | sed -n 's/^</  missing:/p; s/^>/  extra:  /p'
	} >&2
	return 1
}

# help_opts BIOSTAT ARGS...: each option argp lists in BIOSTAT ARGS (--help),
# short and long, as "OPT arg" or "OPT flag" (arg: argp prints --long=ARG)
help_opts() {
	"$@" | awk '/^ +-/ {
		arg = ($0 ~ /^ +(-[A-Za-z], )?--[a-z-]+=/) ? "arg" : "flag"
		if (match($0, /^ +-[A-Za-z],/)) print substr($0, RSTART + RLENGTH - 3, 2), arg
		if (match($0, /--[a-z-]+/)) print substr($0, RSTART, RLENGTH), arg
	}' | LC_ALL=C sort -u
}

# help_names BIOSTAT ARGS...: the same, one line per option, by its short
# name where it has one (as a SYNOPSIS names it)
help_names() {
	"$@" | awk '/^ +-/ {
		arg = ($0 ~ /^ +(-[A-Za-z], )?--[a-z-]+=/) ? "arg" : "flag"
		if (match($0, /^ +-[A-Za-z],/)) print substr($0, RSTART + RLENGTH - 3, 2), arg
		else if (match($0, /--[a-z-]+/)) print substr($0, RSTART, RLENGTH), arg
	}' | LC_ALL=C sort -u
}

# man_opts MAN main|check: the options of a list in the man page MAN (the
# tags after .TP), short and long, as help_opts prints them; "arg" where
# the tag has an argument in italics (.BI, \fI).  main: the OPTIONS
# section; check: the list after "Options of check mode:" (to .PP or .SH).
man_opts() {
	awk -v mode="$2" '
		/^\.SH / { on = mode == "main" && $0 == ".SH OPTIONS"; tag = 0; next }
		mode == "check" && /^\.B Options of check mode:/ { on = 1; next }
		mode == "check" && /^\.PP/ { on = 0 }
		!on { next }
		/^\.TP/ { tag = 1; next }
		tag {
			tag = 0
			arg = ($0 ~ /^\.BI / || $0 ~ /\\fI/) ? "arg" : "flag"
			line = $0
			gsub(/\\-/, "-", line)
			gsub(/["]/, " ", line)
			n = split(line, w, " ")
			for (i = 2; i <= n; i++) {
				sub(/,$/, "", w[i])
				if (w[i] ~ /^--?[A-Za-z][A-Za-z-]*$/) print w[i], arg
			}
		}
	' "$1" | LC_ALL=C sort -u
}

# man_synopsis MAN main|check|before: the options of the man page's
# SYNOPSIS, as help_names prints them: a bundle ([-eHj]) is flags, an
# option followed in its brackets by a word in capitals ([-d DEV]) takes
# an argument; main, the forms without check; check, what follows check;
# before, what precedes it
man_synopsis() {
	mandoc -Tascii -O width=400 "$1" | col -b |
		awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		awk -v mode="$2" '{
			gsub(/\|/, " ")
			n = split($0, w, " ")
			part = "main"
			for (i = 1; i <= n; i++)
				if (w[i] == "check")
					part = "before"
			for (i = 2; i <= n; i++) {
				t = w[i]
				if (t == "check") {
					part = "check"
					continue
				}
				closed = t ~ /\]/
				gsub(/[][]|\.\.\./, "", t)
				if (part != mode || t !~ /^-/)
					continue
				if (t ~ /^-[A-Za-z][A-Za-z]+$/) {
					for (j = 2; j <= length(t); j++)
						print "-" substr(t, j, 1), "flag"
				} else if (!closed && i < n && w[i + 1] ~ /^[A-Z][A-Z_]*(\]|\.\.\.)*$/) {
					print t, "arg"
					i++
				} else {
					print t, "flag"
				}
			}
		}' | LC_ALL=C sort -u
}

# subcommand_cases: words that stand before check on a command line, and
# where biostat then finds its subcommand, as "WORDS|check" or "WORDS|main"
# (main: check is INTERVAL, or an option's argument)
subcommand_cases() {
	cat <<-'EOF'
		|check
		-j|check
		-jv|check
		-d bp0|check
		-jd bp0|check
		-dbp0|check
		-jdbp0|check
		-Hd bp0|check
		-xpH|check
		-xpH 1|main
		-dN|check
		--device bp0|check
		--device=bp0|check
		--dev bp0|check
		-p 1|check
		--prom f|check
		--min 5|check
		-z|check
		--json=1|check
		-jNx|check
		-d|main
		-jd|main
		--device|main
		--dev|main
		-N|main
		--|main
		-|main
		5|main
		-j 5|main
	EOF
}

# split_at BIOSTAT WORDS...: what BIOSTAT WORDS check --help is: "check"
# (check's help, or its message about the words), or "main" (biostat's)
split_at() {
	local b=$1 out err
	shift
	err=$(mktemp)
	out=$("$b" "$@" check --help 2>"$err")
	if [[ $out == "Usage: biostat check "* || $(cat "$err") == "biostat check: "* ]]; then
		echo check
	else
		echo main
	fi
	rm -f "$err"
}
