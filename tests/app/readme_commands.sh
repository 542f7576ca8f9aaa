#!/usr/bin/env bash
# cli_readme_commands: every command README shows works as shown. Each line of README's ```sh
# blocks (but `make …`, `export PATH=…` and lines with "..." as a placeholder) runs, in order, in a
# sandbox whose inputs/demo.toml, inputs/experiment_I.toml and inputs/experiment_II.toml are tiny
# stand-ins with the same names (so out/demo/… exist where README says), `tools/` and `jobscripts/`
# are the source tree's, `boltzmap` is the build's and `mpirun` the tests' launcher; each must exit 0. Then each
# ```python block runs there and must exit 0 (but one with a placeholder path "<name>", which
# stands for a run the user has; cli_h5md_conformance runs that one on a 3D file).
# Usage: readme_commands.sh BOLTZMAP TMPDIR MPIEXEC
set -u
boltzmap=$1 tmp=$2 mpiexec=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp/inputs" "$tmp/bin" && cd "$tmp" || exit 1
for name in demo experiment_I experiment_II; do
  tiny_input name=$name walkers=100 eq=300 between=50 train=300 validation=100 evaluation=300 \
    phases="$(tiny_phase 2 1.0 1e-3)" extra="$(tiny_analysis 5)" > inputs/$name.toml
done
ln -s "$src/tools" tools
ln -s "$src/jobscripts" jobscripts
ln -s "$boltzmap" bin/boltzmap
printf '#!/usr/bin/env bash\nexec %q "$@"\n' "$mpiexec" > bin/mpirun && chmod +x bin/mpirun
export PATH=$tmp/bin:$PATH OMP_NUM_THREADS=1

# The command lines of README's sh blocks, in order (comments cut off at "  # ").
awk '/^```sh$/{b=1; next} /^```/{b=0} b' "$src/README.md" | sed 's/[[:space:]]\+# .*$//' \
  | grep -vE '^(make |export PATH=|$)' | grep -vF '...' > commands.txt
[[ $(wc -l < commands.txt) -ge 20 ]] && ok "README shows $(wc -l < commands.txt) commands" || bad "too few commands found" commands.txt
n=0
while IFS= read -r cmd; do
  n=$((n + 1))
  timeout 120 bash -c "$cmd" > cmd_$n.log 2>&1 < /dev/null; rc=$?
  [[ $rc -eq 0 ]] && ok "README: $cmd" || bad "README: $cmd (rc $rc)" cmd_$n.log
done < commands.txt

# The Python snippets.
awk '/^```python$/{b=1; k++; next} /^```/{b=0} b{print > ("snippet_" k ".py")}' "$src/README.md"
for f in snippet_*.py; do
  [[ -e $f ]] || { bad "no python snippets found"; break; }
  grep -q '<name>' "$f" && continue
  $py "$f" > "$f.log" 2>&1 && ok "README python snippet $f ($(head -c 60 "$f" | tr '\n' ' ')…)" || bad "README python $f" "$f.log"
done
finish
