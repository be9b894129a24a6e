#!/bin/sh
# Users on the kernel's credentials: a user is added as BusyBox's adduser
# would (Debian's busybox-static has no adduser: the lines of /etc/passwd,
# /etc/shadow with a mkpasswd hash, /etc/group, a home directory it owns);
# su (run by root) drops to the user, whose processes then meet the
# permission checks (login needs a terminal: not tested here). One `utest:` line per case (see shell.sh). Run as
# root.
prog=users
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "utest: PASS $prog.$1"; }
bad() { failed=$((failed + 1)); echo "utest: FAIL $prog.$1: $2"; }
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
# as USER CMD: CMD run by sh as USER through su, stderr dropped.
as() { su -c "$2" "$1" 2>/dev/null; }
# add_user NAME ID: what adduser writes, with password "secret".
add_user() {
    echo "$1:x:$2:$2:$1:/home/$1:/bin/sh" >> /etc/passwd
    echo "$1:$(mkpasswd -m sha512 secret):19000:0:99999:7:::" >> /etc/shadow
    echo "$1:x:$2:" >> /etc/group
    mkdir -p "/home/$1" && chown "$1:$1" "/home/$1" && chmod 700 "/home/$1"
}

check runs_as_root "$(id -u)" 0
check shadow_is_private "$(stat -c %a:%u /etc/shadow)" 600:0

add_user alice 1000
uid=1000
gid=1000
check shadow_still_private "$(stat -c %a:%u /etc/shadow)" 600:0
check home_owned "$(stat -c %U:%G /home/alice)" alice:alice

check su_ids "$(as alice 'id -u; id -g; id -un' | tr '\n' ' ')" "$uid $gid alice "
check su_getresuid "$(as alice 'grep ^Uid: /proc/self/status' | tr '\t' ' ')" "Uid: $uid $uid $uid $uid"
check su_home_writable "$(as alice 'cd && echo hi > note && stat -c %U:%G note')" alice:alice
check su_shadow_unreadable "$(as alice 'cat /etc/shadow >/dev/null || echo denied')" denied
check su_etc_unwritable "$(as alice 'touch /etc/alice || echo denied')" denied
check su_root_home_listable "$(as alice 'ls -d /root')" /root
check su_cannot_kill_root "$(as alice "kill -0 $$ || echo denied")" denied
check su_can_kill_own "$(as alice 'sleep 10 & kill $! && wait $!; echo $?')" 143
check su_tmp_sticky "$(touch /tmp/rootfile.$$ && chmod 666 /tmp/rootfile.$$ && as alice "rm -f /tmp/rootfile.$$ || echo denied")" denied
rm -f /tmp/rootfile.$$
check ps_shows_the_user "$(as alice 'sleep 5 & ps | awk -v p=$! "\$1 == p { print \$2 }"; kill $!')" alice
check proc_dir_owned "$(as alice 'stat -c %U:%G /proc/self/')" alice:alice
check su_back_to_root "$(as alice 'su -c true root || echo denied')" denied

add_user bob 1001
check users_keep_apart "$(as bob 'ls /home/alice || echo denied')" denied
check groups_of_user "$(as bob 'id -G')" 1001

echo "utest: DONE $prog $passed $failed"
[ "$failed" -eq 0 ]
