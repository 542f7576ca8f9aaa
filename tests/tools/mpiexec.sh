#!/usr/bin/env bash
# mpiexec for tests: Open MPI refuses to run as root unless told, so tell it only when we are
# root; --oversubscribe lets 2 ranks run on a 1-core box. Usage: mpiexec.sh -n 2 CMD...
set -euo pipefail
extra=(--oversubscribe --bind-to none)
if [[ $(id -u) -eq 0 ]]; then
  extra+=(--allow-run-as-root)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
exec mpiexec "${extra[@]}" "$@"
