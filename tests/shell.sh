#!/bin/sh
# BusyBox shell test: the shell and the usual applets, one `utest:` line
# per case like the C programs (see harness.h). Run as `sh shell.sh`.
prog=shell
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "utest: PASS $prog.$1"; }
bad() { failed=$((failed + 1)); echo "utest: FAIL $prog.$1: $2"; }
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }

# census FIELD: a figure of the kernel heap's census (0 without one).
census() { awk -v f="$1" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' /proc/hardtack/alloc 2>/dev/null || echo 0; }
managed_before=$(census managed_bytes_allocated)
plain_before=$(census plain_bytes_allocated)

dir=/tmp/shell.$$
mkdir -p "$dir" && cd "$dir" || { bad setup "cannot make $dir"; echo "utest: DONE $prog $passed $failed"; exit 1; }

# Variables, arithmetic, parameter expansion.
x=5
y=$((x * 3 + 1))
check arithmetic "$y" 16
name=hardtack.tar.gz
check param_strip_suffix "${name%%.*}" hardtack
check param_strip_prefix "${name#*.}" tar.gz
check param_length "${#name}" 15
unset maybe
check param_default "${maybe:-fallback}" fallback
set -- one "two three" four
check positional_count "$#" 3
check positional_quoted "$2" "two three"

# Command substitution, pipes, redirections.
check command_substitution "$(echo hello | tr a-z A-Z)" HELLO
check nested_substitution "$(echo $(echo inner))" inner
printf 'cherry\napple\nbanana\napple\n' > fruits
check redirect_and_wc "$(wc -l < fruits | tr -d ' ')" 4
check sort_uniq "$(sort fruits | uniq | tr '\n' ,)" "apple,banana,cherry,"
check sort_reverse "$(sort -r fruits | head -n 1)" cherry
check grep_count "$(grep -c apple fruits)" 2
check grep_invert "$(grep -v apple fruits | wc -l | tr -d ' ')" 2
check sed_substitute "$(echo 'a-b-c' | sed 's/-/+/g')" "a+b+c"
check head_tail "$(head -n 3 fruits | tail -n 1)" banana
echo appended >> fruits
check append_redirect "$(tail -n 1 fruits)" appended
ls /no/such/path 2> err.txt
check stderr_redirect "$(test -s err.txt && echo yes)" yes
check pipeline_status "$(false | true; echo $?)" 0
check here_document "$(cat <<END
line $x
END
)" "line 5"
check long_pipeline "$(seq 1 1000 | grep 7 | sort -n | tail -n 1)" 997
check awk_sum "$(seq 1 100 | awk '{ s += $1 } END { print s }')" 5050
check big_pipe "$(head -c 1000000 /dev/zero | wc -c | tr -d ' ')" 1000000

# Control flow, functions, test, exit statuses.
sum=0
for i in 1 2 3 4 5; do sum=$((sum + i)); done
check for_loop "$sum" 15
n=0
while [ $n -lt 10 ]; do n=$((n + 1)); done
check while_loop "$n" 10
case "$name" in *.gz) kind=gzip ;; *) kind=other ;; esac
check case_pattern "$kind" gzip
square() { echo $(($1 * $1)); }
check function_call "$(square 12)" 144
ret() { return 3; }
ret
check function_return_status "$?" 3
false
check false_status "$?" 1
sh -c 'exit 42'
check exit_status_of_child_shell "$?" 42
if test -d "$dir" && [ -f fruits ] && ! [ -e missing ]; then ok test_files; else bad test_files "test -d/-f/-e wrong"; fi
if [ 3 -gt 2 ] && [ abc != abd ] && [ -z "" ] && [ -n x ]; then ok test_compare; else bad test_compare "test comparisons wrong"; fi
check and_or "$(false && echo no || echo yes)" yes

# Subshells and background jobs.
v=outer
(v=inner; exit 0)
check subshell_isolated "$v" outer
check subshell_status "$( (exit 7); echo $?)" 7
sleep 0.2 &
bg=$!
echo job > bgfile &
wait
check background_wait "$(cat bgfile)" job
(exit 9) &
wait $!
check wait_status_of_job "$?" 9
kill -0 $bg 2>/dev/null
check background_job_reaped "$?" 1
sh -c 'kill -TERM $$' 2>/dev/null
check killed_child_status "$?" 143

# Files: cp, mv, rm -r, mkdir -p, ln -s, cat.
mkdir -p tree/a/b
echo deep > tree/a/b/file
cp tree/a/b/file copy
check cp_file "$(cat copy)" deep
cp -r tree tree2
check cp_recursive "$(cat tree2/a/b/file)" deep
mv copy moved
check mv_file "$(cat moved 2>&1; test -e copy && echo still-there)" deep
ln -s moved link
check symlink_readlink "$(readlink link)" moved
check symlink_cat "$(cat link)" deep
rm -r tree tree2
check rm_recursive "$(ls -d tree tree2 2>/dev/null | wc -l | tr -d ' ')" 0
check ls_sorted "$(ls | tr '\n' ' ')" "bgfile err.txt fruits link moved "
cd /
rm -rf "$dir"
check cleanup "$(test -e "$dir" && echo left || echo gone)" gone

# The kernel heap bytes this session allocated are almost all managed (in
# GC heaps): the managed kernel's target is 90 % (about 94 % measured under
# heaps=per-process, 92 % under heaps=global, where no process builds a
# heap of its own; docs/results.md).
managed=$(($(census managed_bytes_allocated) - managed_before))
plain=$(($(census plain_bytes_allocated) - plain_before))
if [ -e /proc/hardtack/alloc ]; then
    share=$((managed * 1000 / (managed + plain + 1)))
    if [ "$share" -ge 900 ]; then ok managed_share; else bad managed_share "$share permille of $((managed + plain)) bytes"; fi
    echo "shell: census managed $managed plain $plain"
fi

echo "utest: DONE $prog $passed $failed"
[ "$failed" -eq 0 ]
