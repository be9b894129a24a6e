#!/bin/sh
# The user-test runner inside Hardtack: `sh /tests/run.sh PROGRAM...` runs
# each test program of /tests (a C binary, or PROGRAM.sh with sh) from /tmp,
# killed after $UTEST_TIMEOUT seconds (default 120), between the lines
#   utest: START PROGRAM
#   utest: EXIT PROGRAM STATUS
# that xtask (xtask/src/usertests.rs) reads with the program's own lines.
limit=${UTEST_TIMEOUT:-120}
for prog in "$@"; do
    cd /tmp
    echo "utest: START $prog"
    if [ -f "/tests/$prog.sh" ]; then
        timeout -s KILL "$limit" sh "/tests/$prog.sh"
    else
        timeout -s KILL "$limit" "/tests/$prog"
    fi
    echo "utest: EXIT $prog $?"
done
