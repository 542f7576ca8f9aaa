#!/usr/bin/python3
"""Physics validation of the box-scaling layer: one LJ liquid at two densities.

    two_densities.py BOLTZMAP TMPDIR SOURCE_DIR [--full]

A and B are the same liquid (experiment I's system IA: LJ ε = 1, σ = 1, r_c = 3, r_in = 0.8,
N = 32, 2D, T = 1, Δ = 0.175) at ρ_A = 0.70 and ρ_B = 0.735 (box ratio s = L_B/L_A = 0.9759),
close enough for plain free-energy perturbation through the box scaling alone to overlap. The
pipeline runs end to end (sample, train a small flow, map, analyze) and must give
  1. the reweighted ⟨U⟩_B from A's mapped samples = B's own MC ⟨U⟩, within 3 combined standard
     errors (both bootstrap errors of `analyze`), over all of B's samples and over the part of B
     that the map covers (METHOD.md rule 3: what the reweighted value estimates when c_B < 1);
  2. βΔF = β_B F_B − β_A F_A from BAR = βΔF from thermodynamic integration (TI) of boltzmap's own
     MC virial pressure, within 3 combined standard errors.
The free energy is the configurational one, F = −kT ln Z, Z(V) = ∫_{V^N} e^{−βU} d^{N·D}x (what
`analyze` reports; src/analysis/analysis.cpp): at equal β,
    ∂ln Z/∂V = N/V + β⟨P_ex⟩,   P_ex = −(1/(D·V)) Σ_{i<j} r_ij u′(r_ij)   (physics/energy.hpp),
    βΔF = −ln(Z_B/Z_A) = −N·ln(V_B/V_A) − β ∫_{V_A}^{V_B} ⟨P_ex⟩(V) dV.
⟨P_ex⟩ comes from `boltzmap sample` (summary sample.A.mean_excess_pressure ± err, the standard
error over independent walkers) at 5 volumes equally spaced from V_A to V_B (the A and B runs are
the end points, 3 more runs of A's liquid between them); the integral is Simpson's rule, its error
the quadrature of the 5 standard errors (the trapezoid rule is printed beside it: their difference,
the discretisation error, must be far below that error).
Quick mode (make test) is smaller; --full (make validate) is the run README quotes.
"""
import json
import math
import os
import shutil
import subprocess
import sys

RHO_A, RHO_B, N, D = 0.70, 0.735, 32, 2


def run(cmd, log):
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(open(log).read()[-3000:])
        print(f"FAIL {' '.join(cmd[:2])} (exit {r.returncode}), log {log}")
        sys.exit(1)


def main():
    boltzmap, tmp, src = sys.argv[1], sys.argv[2], sys.argv[3]
    full = "--full" in sys.argv[4:]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    walkers, saves, epochs, evaluation, replicates = (4000, 8, 20, 20000, 100) if full else (600, 8, 4, 3000, 40)
    # Each walker's saves go to train, then validation, then evaluation (in save order).
    train = walkers * saves - evaluation - walkers // 2
    sets = []
    for X in "AB":
        sets += [f"systems.{X}.sampler.walkers={walkers}", f"systems.{X}.sampler.equilibration_moves=10000",
                 f"systems.{X}.sampler.moves_between_saves=5000", f"systems.{X}.sampler.step_size=0.175",
                 f"systems.{X}.epsilon=1.0", f"systems.{X}.datasets.train={train}",
                 f"systems.{X}.datasets.validation={walkers // 2}", f"systems.{X}.datasets.evaluation={evaluation}"]
    sets += [f"systems.A.density={RHO_A}", f"systems.B.density={RHO_B}", "flow.hidden=[64,64]", "flow.blocks=4",
             "training.batch_size=512", "training.pool_mc_steps=200",
             f"training.phases=[{{epochs={epochs}, lambda_dir=1.0, lambda_inv=0.0, learning_rate=[[0, 3e-4]]}}]",
             "analysis.plot=false", f"analysis.bootstrap_replicates={replicates}"]
    inp = os.path.join(src, "inputs", "experiment_I.toml")
    out = os.path.join(tmp, "run")
    args = [a for kv in sets + [f"output_dir={out}"] for a in ("--set", kv)]
    for stage in ("sample", "train", "map", "analyze"):
        run([boltzmap, stage, inp, *args] + (["--no-progress"] if stage in ("sample", "train", "map") else []),
            os.path.join(tmp, f"{stage}.log"))
    summary = json.load(open(os.path.join(out, "summary.json")))

    # TI: ⟨P_ex⟩ at V_k = V_A + k(V_B − V_A)/4, k = 0 … 4.
    V_a, V_b = N / RHO_A, N / RHO_B
    V = [V_a + k * (V_b - V_a) / 4 for k in range(5)]
    P = [(summary["sample"]["A"]["mean_excess_pressure"], summary["sample"]["A"]["mean_excess_pressure_err"])]
    for k in (1, 2, 3):
        o = os.path.join(tmp, f"ti{k}")
        ti_args = [a for kv in sets + [f"systems.A.density={N / V[k]!r}", f"output_dir={o}"] for a in ("--set", kv)]
        run([boltzmap, "sample", inp, "--system", "A", "--no-progress", *ti_args], os.path.join(tmp, f"ti{k}.log"))
        s = json.load(open(os.path.join(o, "summary.json")))["sample"]["A"]
        P.append((s["mean_excess_pressure"], s["mean_excess_pressure_err"]))
    P.append((summary["sample"]["B"]["mean_excess_pressure"], summary["sample"]["B"]["mean_excess_pressure_err"]))
    h = (V_b - V_a) / 4
    simpson_w = [h / 3 * c for c in (1, 4, 2, 4, 1)]
    trapezoid_w = [h * c for c in (0.5, 1, 1, 1, 0.5)]
    integral = sum(w * p for w, (p, _) in zip(simpson_w, P))
    integral_err = math.sqrt(sum((w * e) ** 2 for w, (_, e) in zip(simpson_w, P)))
    integral_trap = sum(w * p for w, (p, _) in zip(trapezoid_w, P))
    beta = 1.0  # T = 1
    df_ti = -N * math.log(V_b / V_a) - beta * integral
    df_ti_err = beta * integral_err
    df_ti_trap = -N * math.log(V_b / V_a) - beta * integral_trap

    an = summary["analyze"]
    ab, ba, ident = an["A_to_B"], an["B_to_A"], an["identity"]
    passed = failed = 0

    def check(ok, text):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + text)
        passed += ok
        failed += not ok

    print(f"rho_A = {RHO_A}, rho_B = {RHO_B}, s = L_B/L_A = {math.sqrt(RHO_A / RHO_B):.5f}, "
          f"(N-1)*D*ln s = {(N - 1) * D * 0.5 * math.log(RHO_A / RHO_B):.5f}")
    for (v, (p, e)) in zip(V, P):
        print(f"  V = {v:.4f} (rho = {N / v:.5f}): <P_ex> = {p:.5f} +- {e:.5f}")
    print(f"  TI: -N ln(V_B/V_A) = {-N * math.log(V_b / V_a):.5f}, -beta*int P_ex dV = {-beta * integral:.5f} +- {df_ti_err:.5f} "
          f"(trapezoid {-beta * integral_trap:.5f})")
    u_rew, u_rew_err = ab["mean_energy_reweighted"], ab["mean_energy_reweighted_err"]
    u_mc, u_mc_err = ab["mean_energy_reference"], ab["mean_energy_reference_err"]
    z = abs(u_rew - u_mc) / math.hypot(u_rew_err, u_mc_err)
    check(z < 3, f"reweighted <U>_B (A->B) = {u_rew:.3f} +- {u_rew_err:.3f} vs B's MC {u_mc:.3f} +- {u_mc_err:.3f} ({z:.2f} sigma)")
    # METHOD.md rule 3: with coverage c_B < 1 the reweighted observables describe the covered part of B.
    u_cov, u_cov_err, c_b = ab["mean_energy_reference_covered"], ab["mean_energy_reference_covered_err"], ba["coverage"]
    z = abs(u_rew - u_cov) / math.hypot(u_rew_err, u_cov_err)
    check(z < 3, f"reweighted <U>_B vs B's MC on the covered part (c_B = {c_b:.4f}) {u_cov:.3f} +- {u_cov_err:.3f} ({z:.2f} sigma)")
    bar, bar_err = an["delta_f_bar"], an["delta_f_bar_err"]
    z = abs(bar - df_ti) / math.hypot(bar_err, df_ti_err)
    check(z < 3, f"beta dF (BAR, flow) = {bar:.4f} +- {bar_err:.4f} vs TI {df_ti:.4f} +- {df_ti_err:.4f} ({z:.2f} sigma)")
    check(abs(df_ti - df_ti_trap) < df_ti_err,
          f"TI discretisation: Simpson {df_ti:.4f} vs trapezoid {df_ti_trap:.4f} (|diff| below the statistical error)")
    print(f"  one-sided: A->B {ab['delta_f']:.4f} +- {ab['delta_f_err']:.4f}, B->A {ba['delta_f']:.4f} +- {ba['delta_f_err']:.4f}; "
          f"identity map (box scaling only): BAR {ident['delta_f_bar']:.4f} +- {ident['delta_f_bar_err']:.4f}")
    print(f"  ESS/n A->B: flow {ab['ess_fraction']:.4f}, identity {ident['A_to_B']['ess_fraction']:.4f}; "
          f"outside the domain B->A {summary['map']['B_to_A']['out_of_domain_fraction']:.3f}")
    print(f"two_densities: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
