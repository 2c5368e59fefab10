# testlib.sh — sourced by run.sh for every test: a temporary host root, stubs first on PATH, the lab's functions.
# shellcheck shell=bash
export LAB_HOST_ROOT=$T/root LAB_DIR=$T/lab FAKE=$T/fake
mkdir -p "$LAB_HOST_ROOT" "$LAB_DIR" "$FAKE"/{netns,links}
touch "$FAKE/log" "$FAKE/ipsets" "$FAKE/ebchains"
# only the stubs answer for the commands that change the host's network; the rest comes from the system
export PATH=$HERE/stubs:/usr/local/bin:/usr/bin:/bin
for c in ip iptables ip6tables ipset ebtables; do
  [[ $(command -v "$c") == "$HERE/stubs/$c" ]] || { echo "stub for $c is not first on PATH" >&2; exit 1; }
done
# shellcheck source=scripts/lab/lib.sh
. "$HERE/../lib.sh"
mysql_root() { echo "mysql_root $*" >>"$FAKE/log"; cat >/dev/null; }   # tests replace it where the DB matters

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: want [$1], got [$2]"; }
assert_exists() { [[ -e $1 || -L $1 ]] || fail "$1 should exist"; }
assert_absent() { [[ ! -e $1 && ! -L $1 ]] || fail "$1 should not exist"; }
assert_contains() { grep -qF -- "$2" <<<"$1" || fail "${3:-text} should contain [$2]; it is [$1]"; }
assert_not_contains() { ! grep -qF -- "$2" <<<"$1" || fail "${3:-text} should not contain [$2]; it is [$1]"; }
# spawn — a sleeping process in a session of its own; prints its pid
spawn() { setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!; }
alive() {                                             # running, not a zombie (one read: no race with reaping)
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${s##*) } != Z* ]]
}
