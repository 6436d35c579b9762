# tests/lib/kernel-errors.bash: what in a kernel log is an error, as one
# extended regular expression (grep -E), for the guest's tests (kmem.bash:
# every test's teardown) and for tests/vm/run's check of a guest's whole
# console log.  Oopses, BUGs (KASAN's, "sleeping function called from
# invalid context"), WARNINGs (lockdep's cycles and inconsistent states),
# hung tasks, and the debug kernel's other reports: lockdep's that are not
# WARNINGs, debugobjects, kmemleak after a scan (or kmemleak giving up),
# UBSAN, list debugging.
# shellcheck shell=bash
# shellcheck disable=SC2034 # used by the files that source this one
KERNEL_ERRORS='BUG:|Oops|WARNING:|hung_task|blocked for more than|general protection|KASAN|INFO: trying to register non-static key|turning off the locking correctness validator|ODEBUG:|kmemleak: .*(suspected memory leak|disabled)|UBSAN:|list_(add|del) corruption'
