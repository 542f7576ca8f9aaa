#!/usr/bin/python3
"""Physics validation of the MCMC engine on the paper's three systems (Table S1).

    paper_systems.py BOLTZMAP TMPDIR [--full]

For IA/IIB (LJ ε=1, Δ=0.175), IB (LJ ε=1/2, Δ=0.2) and IIA (WCA ε=1/2, Δ=0.2), N=32, 2D,
T=1, ρ=0.735, r_c=3, r_in=0.8, runs `boltzmap sample` from the lattice with 10⁴ equilibration
moves and saves 10⁴ moves apart, then checks:
  * acceptance within ±0.02 of the paper's rounded values (0.49, 0.48, 0.51); the paper's box
    was rounded to 6.6 (ours is √(32/0.735) = 6.598), which moves acceptance by < 0.002;
  * saves 10⁴ moves apart are decorrelated: |τ_int − 1| ≤ 4σ_τ, with σ_τ = 2√(Σ_k 1/(W(S−k))) the
    standard error of 1 + 2Σ_{k≤M} ρ(k), ρ(k) from W(S − k) uncorrelated pairs;
  * ⟨U⟩/N has a finite, small standard error (independent walkers), printed for README;
  * --full only: ⟨U⟩/N of IA agrees with an independent sampler — Langevin dynamics (BAOAB,
    forces, numpy; nothing shared with the C++ code) — within 4 combined standard errors plus the
    integrator's O(dt²) bias estimated from two time steps;
  * quick mode only: ⟨U⟩/N of each system agrees with the reference values of a full run
    (REFERENCE below, README "Validation") within 4 combined standard errors — a regression check
    that the production kernel (N = 32, compile-time N) samples the same distribution.
Quick mode (make test): 3000 walkers, 4 saves. Full mode (make validate): 25000 walkers, 5 saves.
"""
import json
import math
import os
import subprocess
import sys

PAPER = {  # name: (potential, epsilon, step, paper acceptance)
    "IA": ("lj", 1.0, 0.175, 0.49),
    "IB": ("lj", 0.5, 0.2, 0.48),
    "IIA": ("wca", 0.5, 0.2, 0.51),
}


# ⟨U⟩/N ± standard error from `make validate` (2.5×10⁴ walkers × 5 saves, seed 2022), see README.
REFERENCE = {"IA": (-1.94414, 0.00033), "IB": (-0.77541, 0.00031), "IIA": (0.36496, 0.00029)}


def system_block(label, potential, eps, step, walkers, saves):
    cutoff = "cutoff = 3.0\n" if potential == "lj" else ""
    return f"""
[systems.{label}]
potential = "{potential}"
epsilon = {eps}
sigma = 1.0
{cutoff}inner_cutoff = 0.8
temperature = 1.0
density = 0.735
[systems.{label}.sampler]
walkers = {walkers}
step_size = {step}
equilibration_moves = 10000
moves_between_saves = 10000
[systems.{label}.datasets]
train = 0
validation = 0
evaluation = {walkers * saves}
"""


def run_system(boltzmap, tmp, name, walkers, saves):
    pot, eps, step, _ = PAPER[name]
    text = f'name = "val_{name}"\nseed = 2022\noutput_dir = "{tmp}/{name}"\n[box]\nn_particles = 32\n'
    # The system under test is A; B is a tiny placeholder that is not sampled (--system A).
    text += system_block("A", pot, eps, step, walkers, saves)
    text += system_block("B", "lj", 1.0, 0.175, 1, 1)
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([boltzmap, "sample", path, "--system", "A", "--no-progress"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"boltzmap sample failed for {name}")
    with open(os.path.join(tmp, name, "summary.json")) as f:
        return json.load(f)["sample"]["A"]


def langevin_mean_energy(dt, steps, replicas, seed):
    """⟨U⟩/N of IA by BAOAB Langevin dynamics (unit mass, γ = 1), independent numpy code."""
    import numpy as np
    rng = np.random.default_rng(seed)
    N, L, rc, rin = 32, math.sqrt(32 / 0.735), 3.0, 0.8

    def lj(r2):
        s6 = (1.0 / r2) ** 3
        return 4 * (s6 * s6 - s6)

    def dlj_over_r(r2):  # (dU/dr)/r
        s6 = (1.0 / r2) ** 3
        return -24 * (2 * s6 * s6 - s6) / r2

    shift = lj(rc * rc)
    u_in, du_in = lj(rin * rin) - shift, dlj_over_r(rin * rin) * rin

    def energy_forces(x):
        d = x[:, :, None, :] - x[:, None, :, :]
        d -= L * np.round(d / L)
        r2 = (d * d).sum(-1)
        iu = np.triu_indices(N, 1)
        r2p = r2[:, iu[0], iu[1]]
        inside = r2p < rc * rc
        lin = r2p < rin * rin
        safe = np.where(lin | ~inside, 1.0, r2p)
        u = np.where(inside, np.where(lin, u_in + du_in * (np.sqrt(r2p) - rin), lj(safe) - shift), 0.0)
        g = np.where(inside, np.where(lin, du_in / np.sqrt(r2p), dlj_over_r(safe)), 0.0)
        G = np.zeros_like(r2)
        G[:, iu[0], iu[1]] = g
        G = G + G.transpose(0, 2, 1)
        f = -(G[:, :, :, None] * d).sum(2)
        return u.sum(1), f

    n = 4
    a = L / n
    base = [((i + 0.5 * h) * a, (j + 0.5 * h) * a) for j in range(n) for i in range(n) for h in (0, 1)]
    x = np.tile(np.array(base), (replicas, 1, 1))
    v = rng.normal(size=x.shape)
    c1 = math.exp(-dt)
    c2 = math.sqrt(1 - c1 * c1)
    u, f = energy_forces(x)
    burn = steps // 5
    samples = []
    for t in range(steps):
        v += 0.5 * dt * f
        x += 0.5 * dt * v
        v = c1 * v + c2 * rng.normal(size=v.shape)
        x += 0.5 * dt * v
        x %= L
        u, f = energy_forces(x)
        v += 0.5 * dt * f
        if t >= burn and t % 20 == 0:
            samples.append(u / N)
    s = np.array(samples)  # [time][replica]
    per_rep = s.mean(0)   # replicas are independent: their spread gives the error
    return per_rep.mean(), per_rep.std(ddof=1) / math.sqrt(replicas)


def main():
    boltzmap, tmp = sys.argv[1], sys.argv[2]
    full = "--full" in sys.argv
    os.makedirs(tmp, exist_ok=True)
    walkers, saves = (25000, 5) if full else (3000, 4)
    passed = failed = 0

    report = open(os.path.join(tmp, "report.txt"), "w")

    def check(ok, text):  # prints and writes the report
        nonlocal passed, failed
        line = ("PASS " if ok else "FAIL ") + text
        print(line, flush=True)
        report.write(line + "\n")
        passed += ok
        failed += not ok

    results = {}
    for name, (pot, eps, step, acc_paper) in PAPER.items():
        s = run_system(boltzmap, tmp, name, walkers, saves)
        results[name] = s
        check(abs(s["acceptance"] - acc_paper) <= 0.02,
              f"{name}: acceptance {s['acceptance']:.4f} vs paper {acc_paper} (±0.02), Δ={step}")
        # ρ(k) from W(S − k) pairs has standard error ≈ 1/√(W(S − k)) when saves are uncorrelated;
        # τ sums lags 1..M with M = min(5, S − 1) (Sokal window for τ ≈ 1).
        M = min(5, saves - 1)
        sigma_tau = 2 * math.sqrt(sum(1 / (walkers * (saves - k)) for k in range(1, M + 1)))
        check(abs(s["tau_int"] - 1) <= 4 * sigma_tau,
              f"{name}: τ_int {s['tau_int']:.4f} (ESS/sample {s['ess_per_sample']:.4f}), |τ−1| ≤ 4σ = {4 * sigma_tau:.4f}")
        err = s["mean_energy_per_particle_err"]
        if not full:
            ref, ref_err = REFERENCE[name]
            tol = 4 * math.sqrt(err ** 2 + ref_err ** 2)
            check(abs(s["mean_energy_per_particle"] - ref) <= tol,
                  f"{name}: ⟨U⟩/N {s['mean_energy_per_particle']:.5f} ± {err:.5f} vs full run {ref} ± {ref_err} "
                  f"(4σ = {tol:.5f})")
        check(err > 0 and err < 0.01,
              f"{name}: ⟨U⟩/N = {s['mean_energy_per_particle']:.5f} ± {err:.5f} ({walkers} walkers × {saves} saves), "
              f"{s['trial_moves_per_second']:.3g} moves/s")
    if full:
        m1, e1 = langevin_mean_energy(0.005, 20000, 64, 1)
        m2, e2 = langevin_mean_energy(0.0025, 40000, 64, 2)
        # BAOAB's configurational bias is O(dt²): U(dt) = U₀ + c·dt², so the bias of the dt/2 run is
        # c·(dt/2)² = (U(dt) − U(dt/2))/3.
        bias = abs(m1 - m2) / 3
        mc, emc = results["IA"]["mean_energy_per_particle"], results["IA"]["mean_energy_per_particle_err"]
        tol = 4 * math.sqrt(emc ** 2 + e2 ** 2) + bias
        check(abs(mc - m2) <= tol,
              f"IA: MC ⟨U⟩/N {mc:.4f} ± {emc:.4f} vs Langevin {m2:.4f} ± {e2:.4f} (dt=0.0025; dt=0.005 gave "
              f"{m1:.4f} ± {e1:.4f}); tolerance 4σ + bias = {tol:.4f}")
    print(f"paper_systems: {passed} passed, {failed} failed")
    report.write(f"paper_systems: {passed} passed, {failed} failed\n")
    report.close()
    print(f"report: {os.path.join(tmp, 'report.txt')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
