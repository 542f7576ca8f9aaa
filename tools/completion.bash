# bash completion for boltzmap (installed as share/bash-completion/completions/boltzmap by
# `cmake --install`; from a source tree: `source tools/completion.bash`). Completes the
# subcommands, each one's options, input files (*.toml) and data files (*.h5), --system A|B, and
# the top-level input keys after --set. tests/app/install.sh checks that the lists below match
# every subcommand's --help.
_boltzmap() {
  local cur prev sub="" word
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local subcommands="sample preprocess train map analyze run check info export import"
  local global="-h --help --version --threads -v --verbose --debug-sync"
  for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case " $subcommands " in *" $word "*) sub=$word; break ;; esac
  done
  case $prev in
    --system) COMPREPLY=($(compgen -W "A B" -- "$cur")); return ;;
    --set-name) COMPREPLY=($(compgen -W "train validation evaluation" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "gsd xyz lammps-data lammps-dump" -- "$cur")); return ;;
    --frames|--frame) return ;;
    --threads|--ranks|--sampler-ranks) return ;;
    -o|--output-dir|--output)
      if [[ $sub == export ]]; then COMPREPLY=($(compgen -f -- "$cur")); else COMPREPLY=($(compgen -d -- "$cur")); fi
      return ;;
    --set)
      COMPREPLY=($(compgen -W "name= seed= backend= output_dir= box. systems.A. systems.B. preprocess. flow. training. analysis. parallel." -- "$cur"))
      compopt -o nospace 2>/dev/null
      return ;;
  esac
  local opts
  case $sub in
    sample) opts="--set -o --output-dir --system --no-progress" ;;
    preprocess|map) opts="--set -o --output-dir --no-progress" ;;
    train) opts="--set -o --output-dir --no-progress --sampler-ranks" ;;
    analyze) opts="--set -o --output-dir --no-plot --no-progress" ;;
    run) opts="--set -o --output-dir --no-progress --no-plot --sampler-ranks" ;;
    check) opts="--set -o --output-dir --ranks --sampler-ranks --no-input" ;;
    info) opts="--input" ;;
    export) opts="-o --output --format --frames --frame" ;;
    import) opts="--set -o --output-dir --system --set-name --format" ;;
    "") COMPREPLY=($(compgen -W "$subcommands $global" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts -h --help --threads -v --verbose --debug-sync" -- "$cur"))
  elif [[ $sub == info || $sub == export ]]; then
    COMPREPLY=($(compgen -f -X '!*.h5' -- "$cur") $(compgen -d -- "$cur"))
  elif [[ $sub == import ]]; then
    COMPREPLY=($(compgen -f -X '!*.@(toml|gsd|xyz|extxyz|dump|lammpstrj|data|lmp)' -- "$cur") $(compgen -d -- "$cur"))
  else
    COMPREPLY=($(compgen -f -X '!*.toml' -- "$cur") $(compgen -d -- "$cur"))
  fi
}
complete -F _boltzmap boltzmap
