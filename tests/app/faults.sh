#!/usr/bin/env bash
# cli_faults: inputs that used to give a wrong answer with exit 0, or a crash, now give a located
# error and the right exit code (issue 10, items 3–9 and 11):
#   provenance — a data file of another system, set or density is refused by the stage that reads
#   it, naming the key; `sample` removes a system's old files before it redoes it; non-finite —
#   training stops with exit 5 on a diverged validation metric before any file is written from it,
#   map refuses a model with NaN parameters and a NaN coordinate (naming the file and global frame,
#   also on 2 ranks), coordinates outside the box are wrapped with a warning; MPI — ranks started
#   with different arguments are refused (no mixed file, no hang), an input error is printed once;
#   limits — a 100 000-character key or name is an input error (not a stack overflow), an absurd
#   walker count is refused with the memory it would need; a frozen chain gets a warning.
set -u
boltzmap=$1 tmp=$2 mpiexec=$3
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
tiny_input name=f walkers=100 train=300 validation=100 evaluation=300 batch=300 \
  phases="$(tiny_phase 3 0.0 1e-3)" extra="$(tiny_analysis 10)" > in.toml
# h5py edits of a data set: set coordinate [frame, particle, axis] or shift every coordinate.
h5set() { "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); d=f['particles/all/position/value']; d[int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])]=float(sys.argv[5])" "$@"; }
h5shift() { "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); d=f['particles/all/position/value']; d[...]=d[...]+float(sys.argv[2])" "$@"; }

"$boltzmap" sample in.toml --no-progress > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }
"$boltzmap" train in.toml --no-progress > train.log 2>&1 || { bad "train" train.log; finish; exit 1; }
"$boltzmap" map in.toml --no-progress > map.log 2>&1 || { bad "map" map.log; finish; exit 1; }
run=out/f

# ---- provenance (item 3)
cp -r $run swapped
cp $run/data/A_evaluation.h5 swapped/data/B_evaluation.h5
"$boltzmap" map in.toml --no-progress --set output_dir=swapped > swap.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "holds system A's evaluation set" swap.log && ok "map refuses A's evaluation set in B's place (exit 4)" \
  || bad "swapped evaluation sets (rc $rc)" swap.log
"$boltzmap" analyze in.toml --set output_dir=swapped > swap_an.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "holds system A's evaluation set" swap_an.log && ok "analyze refuses it too (exit 4)" \
  || bad "analyze with swapped sets (rc $rc)" swap_an.log
# A data set sampled at another density, copied into the run folder.
"$boltzmap" sample in.toml --no-progress --system B --set systems.B.density=0.62 --set output_dir=dense > dense.log 2>&1 \
  || bad "sample at another density" dense.log
cp -r $run foreign && cp dense/data/B_train.h5 foreign/data/B_train.h5
"$boltzmap" train in.toml --no-progress --set output_dir=foreign > foreign.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "systems.B.density = 0.62 in the file, 0.6 in the input" foreign.log \
  && ok "train refuses a training set sampled at another density (exit 4, names the key)" || bad "foreign density (rc $rc)" foreign.log
"$boltzmap" preprocess in.toml --set output_dir=foreign > foreign_pre.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "systems.B.density" foreign_pre.log && ok "preprocess refuses it too" || bad "preprocess foreign (rc $rc)" foreign_pre.log
# A model trained for other physics is refused by map (a map between other systems has other weights).
cp -r $run othermodel
"$boltzmap" sample in.toml --no-progress --set systems.B.epsilon=0.4 --set output_dir=eps04 > eps04.log 2>&1 \
  && "$boltzmap" train in.toml --no-progress --set systems.B.epsilon=0.4 --set output_dir=eps04 >> eps04.log 2>&1 \
  && cp eps04/model/flow.h5 othermodel/model/flow.h5
"$boltzmap" map in.toml --no-progress --set output_dir=othermodel > othermodel.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "trained for other physics" othermodel.log && grep -q "systems.B.epsilon = 0.4 in the file" othermodel.log \
  && ok "map refuses a model trained for another ε (exit 4)" || bad "model of other physics (rc $rc)" othermodel.log
# sample removes a system's files before it redoes it: killed part-way, no old B files are left.
cp -r $run redo
"$boltzmap" sample in.toml --no-progress --system B --set systems.B.epsilon=0.45 --set systems.B.sampler.equilibration_moves=2000000 \
  --set output_dir=redo > redo.log 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "tuned\|removed the earlier" redo.log 2>/dev/null && [[ ! -f redo/data/B_train.h5 ]] && break; sleep 0.1; done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
ls redo/data/B_*.h5 > /dev/null 2>&1 && bad "old B files left beside the new input" redo.log || ok "sample removes a system's old files before redoing it"
"$boltzmap" train in.toml --no-progress --set systems.B.epsilon=0.45 --set output_dir=redo > redo_train.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "B_train.h5: missing" redo_train.log && ok "the next stage finds no stale B data (exit 4, missing)" \
  || bad "train after a killed re-sample (rc $rc)" redo_train.log

# ---- non-finite values (items 4, 6)
cp -r $run diverge
rm -rf diverge/model/flow.h5 diverge/model/checkpoints diverge/train_log.csv
"$boltzmap" train in.toml --no-progress --set output_dir=diverge --set 'training.phases=[{epochs=3, lambda_dir=1.0, lambda_inv=0.0, learning_rate=[[0, 1e-3], [2, 1e6]]}]' \
  > diverge.log 2>&1; rc=$?
rm -f diverge/model/checkpoints/checkpoint.h5.partial
next=$("$py" -c "import h5py; print(int(h5py.File('diverge/model/checkpoints/checkpoint.h5')['checkpoint'].attrs['next_epoch']))" 2>/dev/null)
[[ $rc -eq 5 ]] && grep -q "epoch 3 " diverge.log && [[ ! -f diverge/model/flow.h5 && ! -f diverge/model/checkpoints/checkpoint_failed.h5 && $next == 2 ]] \
  && [[ $(tail -n +2 diverge/train_log.csv | wc -l) -eq 2 ]] \
  && ok "a diverged last epoch stops with exit 5; the checkpoint and the log stop at epoch 2; nothing written from the diverged state" \
  || bad "diverged training (rc $rc, checkpoint next_epoch $next)" diverge.log
cp -r $run nanmodel && rm -rf nanmodel/mapped
"$py" -c "import h5py; f=h5py.File('nanmodel/model/flow.h5','r+'); p=f['flow/parameters']; p[7]=float('nan')"
"$boltzmap" map in.toml --no-progress --set output_dir=nanmodel > nanmodel.log 2>&1; rc=$?
[[ $rc -eq 5 ]] && grep -q "flow parameter 7" nanmodel.log && [[ -z $(ls nanmodel/mapped 2>/dev/null) ]] \
  && ok "map refuses a model with a NaN parameter (exit 5)" || bad "NaN model (rc $rc)" nanmodel.log
cp -r $run nancoord
h5set nancoord/data/B_evaluation.h5 250 3 1 nan
timeout 120 "$mpiexec" -n 2 "$boltzmap" map in.toml --no-progress --set output_dir=nancoord > nancoord.log 2>&1; rc=$?
[[ $rc -eq 4 && $(grep -c "B_evaluation.h5: frame 250 (of 300), particle 3, axis 1: coordinate nan is not finite" nancoord.log) -eq 1 ]] \
  && ok "a NaN coordinate: exit 4 naming the file and the global frame, once, on 2 ranks" || bad "NaN coordinate (rc $rc)" nancoord.log
cp -r $run shifted
L=$("$py" -c "print((18/0.6)**0.5)")
h5shift shifted/data/A_evaluation.h5 "$("$py" -c "print(3*$L)")"
"$boltzmap" map in.toml --no-progress --set output_dir=shifted > shifted.log 2>&1; rc=$?
"$py" -c "
import h5py, numpy as np, sys
a, b = (h5py.File(p + '/mapped/A_to_B.h5')['observables/source_energy/value'][:] for p in ('$run', 'shifted'))
sys.exit(0 if np.allclose(a, b, rtol=1e-4, atol=1e-3) else 1)" 2>/dev/null; same=$?
[[ $rc -eq 0 && $same -eq 0 ]] && grep -q "wrapped into it" shifted.log \
  && ok "coordinates 3L outside the box are wrapped with a warning (same energies)" || bad "shifted coordinates (rc $rc, same $same)" shifted.log

# ---- MPI: one input for the job (item 5), one message (item 11)
timeout 60 "$mpiexec" -n 1 "$boltzmap" sample in.toml --no-progress --set output_dir=mpmd : -n 1 "$boltzmap" sample in.toml \
  --no-progress --set output_dir=mpmd --set seed=99 > mpmd.log 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "started with different arguments" mpmd.log && [[ ! -f mpmd/data/A_train.h5 ]] \
  && ok "ranks started with different --set are refused (exit 2, no data written)" || bad "MPMD with different inputs (rc $rc)" mpmd.log
timeout 60 "$mpiexec" -n 2 "$boltzmap" sample in.toml --no-progress --set systems.A.temperature=-1 > once.log 2>&1; rc=$?
[[ $rc -eq 3 && $(grep -c "systems.A.temperature" once.log) -eq 1 ]] && ok "an input error on 2 ranks is printed once (exit 3)" \
  || bad "input error printed once (rc $rc, $(grep -c "systems.A.temperature" once.log) times)" once.log

# ---- limits (items 8, 9)
long=$(head -c 100000 /dev/zero | tr '\0' a)
"$boltzmap" sample in.toml --set "$long=1" > longkey.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q "is not a dotted key" longkey.log && ok "a 100 000-character --set key: exit 3" || bad "long key (rc $rc)" longkey.log
"$boltzmap" sample in.toml --set "name=$long" > longname.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q "at most 255 characters" longname.log && ok "a 100 000-character name: exit 3" || bad "long name (rc $rc)" longname.log
"$boltzmap" sample in.toml --set systems.A.sampler.walkers=2147483647 --set output_dir=huge > huge.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q "systems.A.sampler.walkers = 2147483647: sampling system A needs about" huge.log \
  && ok "walkers = 2³¹ − 1: exit 3 with the memory it would need" || bad "absurd walkers (rc $rc)" huge.log
"$boltzmap" sample in.toml --no-progress --system A --set systems.A.sampler.step_size=1e-7 --set output_dir=frozen > frozen.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "acceptance 1.0000 is above 99%" frozen.log && ok "a chain that accepts everything gets a warning" \
  || bad "acceptance warning (rc $rc)" frozen.log
"$boltzmap" sample in.toml --no-progress --system A --set systems.A.epsilon=1e300 --set systems.A.sampler.equilibration_moves=200 \
  --set output_dir=stuck > stuck.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "acceptance 0.0000 is below 1%" stuck.log \
  && ok "ε = 1e300 (no move is ever accepted): a warning for the frozen chain" || bad "ε = 1e300 (rc $rc)" stuck.log
finish
