#!/usr/bin/env bash
# cli_install: `cmake --install` gives a relocatable tree — moved elsewhere as a whole, its
# boltzmap runs the installed demo input when given no FILE and draws figures with the installed
# tools/plot (not the source tree's); the bash completion offers every subcommand and, for each,
# exactly the options its --help lists.
# Usage: install.sh BUILD_DIR TMPDIR
set -u
build=$1 tmp=$2
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
cmake --install "$build" --prefix "$tmp/first" > install.log 2>&1 && ok "cmake --install" || { bad "cmake --install" install.log; finish; exit; }
mv "$tmp/first" "$tmp/moved"
prefix=$tmp/moved bin=$tmp/moved/bin/boltzmap
for f in bin/boltzmap share/boltzmap/tools/plot share/boltzmap/inputs/demo.toml share/boltzmap/jobscripts/train.slurm \
         share/bash-completion/completions/boltzmap share/doc/boltzmap/README.md; do
  [[ -e $prefix/$f ]] || bad "installed tree lacks $f"
done
"$bin" --version > version.log 2>&1 && ok "the moved boltzmap runs" || bad "moved boltzmap --version" version.log

# No FILE: the installed demo input (here refused at once by backend = cuda, after it was read).
mkdir -p empty && (cd empty && "$bin" run --set backend=cuda > ../demo.log 2>&1); rc=$?
[[ $rc -eq 6 ]] && grep -q "running the demo, $prefix/share/boltzmap/inputs/demo.toml" demo.log \
  && ok "run without FILE reads the moved tree's demo input" || bad "demo input (rc $rc)" demo.log

# Figures with the moved tree's tools/plot.
if $py -c "import matplotlib, h5py" 2>/dev/null; then
  tiny_input name=inst walkers=100 eq=300 between=50 train=300 validation=100 evaluation=200 \
    phases="$(tiny_phase 2 1.0 1e-3)" extra="[analysis]
bootstrap_replicates = 5" > in.toml
  "$bin" run in.toml --no-progress > run.log 2>&1; rc=$?
  [[ $rc -eq 0 && -s out/inst/figures/inst.png && -s out/inst/figures/training.png ]] \
    && grep -q "drawn by $prefix/share/boltzmap/tools/plot" run.log && ok "figures drawn by the moved tree's tools/plot" \
    || bad "figures (rc $rc)" run.log
fi

# Completion: every subcommand, and per subcommand exactly the long options of its --help.
source "$prefix/share/bash-completion/completions/boltzmap"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _boltzmap; printf '%s\n' "${COMPREPLY[@]}" | sort -u; }
subs=$("$bin" --help | awk '/^Subcommands:/{s=1; next} s && /^$/{s=0} s && /^  [a-z]/{print $1}' | sort -u)
[[ -n $subs && "$(complete_words boltzmap "" | grep -v '^-')" == "$subs" ]] && ok "completion offers the subcommands: $(echo $subs)" \
  || bad "completion subcommands (help: $(echo $subs); completion: $(complete_words boltzmap "" | tr '\n' ' '))"
for sub in $subs; do
  # The option column of the help (an option line starts with spaces and the option's names).
  want=$("$bin" $sub --help | grep -oE -- '^ +(-[a-zA-Z],)?--[a-z][a-z-]*' | sed 's/.*--/--/' \
    | grep -vE -- '^--(help|threads|verbose|debug-sync)$' | sort -u)
  have=$(complete_words boltzmap $sub -- | grep -vE -- '^(-h|-v|--help|--threads|--verbose|--debug-sync)$' | sort -u)
  [[ "$want" == "$have" ]] && ok "completion of '$sub' options matches its --help" \
    || bad "completion of $sub: help has [$(echo $want)], completion [$(echo $have)]"
done
finish
