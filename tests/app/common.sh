# Shared by the command-line test scripts (sourced): the Python with h5py/numpy (Debian's first),
# and PASS/FAIL bookkeeping — ok NAME, bad NAME [LOG] (prints the log's tail), finish (exit status).
py=/usr/bin/python3; [[ -x $py ]] || py=python3
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [[ -z ${2:-} || ! -f $2 ]] || tail -n 20 "$2" | sed 's/^/    | /'; }
finish() { echo "$pass passed, $fail failed"; [[ $fail -eq 0 ]]; }
