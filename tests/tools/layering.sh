#!/usr/bin/env bash
# The include rules of docs/DESIGN.md's layout, checked on src/ (the layering test, `ctest -R
# layering`): core/ knows no physics and nothing above it (it is the bottom layer: config, errors,
# logs, RNG, backend choice); physics/ builds on core/ alone; io/ knows no trainer; flow/ does not
# import analysis/; no library folder includes app/. Each offending #include is printed with its
# file and line. Usage: layering.sh SRC_DIR
set -u
src=${1:?usage: layering.sh SRC_DIR}
[[ -d $src/core ]] || { echo "layering.sh: $src/core: no such folder"; exit 2; }
status=0

# forbid FOLDER REGEX WHY: FOLDER's sources (.hpp, .cpp) must not #include a header matching REGEX.
forbid() {
  local folder=$1 pattern=$2 why=$3 hits
  hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]($pattern)" \
           "$src/$folder"/*.hpp "$src/$folder"/*.cpp 2>/dev/null)
  if [[ -n $hits ]]; then
    echo "FAIL $folder/: $why; these includes break it:"
    echo "$hits" | sed "s|^$src/|    src/|"
    status=1
  else
    echo "PASS $folder/: $why"
  fi
}

all_but() {  # the folders of src/ other than those named, as one regex of "name/"
  local f out=""
  for f in "$src"/*/; do
    f=$(basename "$f")
    [[ " $* " == *" $f "* ]] && continue
    out+="${out:+|}$f/"
  done
  echo "$out"
}

forbid core "$(all_but core)" "no other folder of src/ (core/ is the bottom layer)"
forbid physics "$(all_but core physics)" "only core/ and physics/"
forbid io "flow/trainer\.hpp" "no trainer (flow/trainer.hpp)"
forbid flow "analysis/" "no analysis/"
for f in "$src"/*/; do
  f=$(basename "$f")
  [[ $f == app ]] || forbid "$f" "app/" "no app/ (the library does not know main)"
done
exit $status
