#!/usr/bin/python3
"""PyTorch twin of bench_flow (the comparison asked for in the flow issue; not part of the build).

    bench/bench_torch.py [--threads N ...]

The same network (8 real-NVP blocks, separate S and T MLPs 31-128-128-128-31 with tanh, float32,
657 904 parameters), batch 2048 of each kind, and the same training step: L_dir through F^-1 and
L_inv through F, each with the energy of the mapped configurations (PCA^-1, wrap, re-inserted
central particle, truncated and shifted LJ with the linear core below r_in = 0.8, minimum image,
in float64 like boltzmap), the clamp of beta*U, the log-determinants, autograd, and an Adam step.
Prints JSON: training step seconds and forward throughput per thread count. Fairness: the same
thread counts (torch.set_num_threads) and an optimised BLAS (Debian's libopenblas0 selected through
update-alternatives; run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, see README).
"""
import json
import math
import statistics
import sys
import time

import torch

N, D, B = 32, 2, 2048
M = (N - 1) * D
L = math.sqrt(N / 0.735)
RC, RIN, EC = 3.0, 0.8, 1e5


class Mlp(torch.nn.Module):
    def __init__(self, i, o, hidden=(128, 128, 128)):
        super().__init__()
        layers, prev = [], i
        for h in hidden:
            layers += [torch.nn.Linear(prev, h), torch.nn.Tanh()]
            prev = h
        last = torch.nn.Linear(prev, o)
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
        self.net = torch.nn.Sequential(*layers, last)

    def forward(self, x):
        return self.net(x)


class RealNvp(torch.nn.Module):
    def __init__(self, dim=M, blocks=8):
        super().__init__()
        self.keep = [torch.arange(b % 2, dim, 2) for b in range(blocks)]
        self.trans = [torch.arange(1 - b % 2, dim, 2) for b in range(blocks)]
        self.s = torch.nn.ModuleList(Mlp(len(self.keep[b]), len(self.trans[b])) for b in range(blocks))
        self.t = torch.nn.ModuleList(Mlp(len(self.keep[b]), len(self.trans[b])) for b in range(blocks))

    def forward(self, x):
        ld = torch.zeros(x.shape[0])
        for b in range(len(self.s)):
            h = x[:, self.keep[b]]
            s, t = self.s[b](h), self.t[b](h)
            y = x.clone()
            y[:, self.trans[b]] = x[:, self.trans[b]] * torch.exp(s) + t
            x, ld = y, ld + s.sum(1)
        return x, ld

    def inverse(self, y):
        ld = torch.zeros(y.shape[0])
        for b in reversed(range(len(self.s))):
            h = y[:, self.keep[b]]
            s, t = self.s[b](h), self.t[b](h)
            x = y.clone()
            x[:, self.trans[b]] = (y[:, self.trans[b]] - t) * torch.exp(-s)
            y, ld = x, ld - s.sum(1)
        return y, ld


def lj(r2, eps):
    s6 = (1.0 / r2) ** 3
    return 4 * eps * (s6 * s6 - s6)


def energy(z, w_inv, mu, eps):
    """beta*U of the configurations behind latent rows z (float64), clamped."""
    y = z.double() @ w_inv.T + mu
    y = torch.remainder(y, L).view(-1, N - 1, D)
    centre = torch.full((y.shape[0], 1, D), 0.5 * L, dtype=torch.float64)
    x = torch.cat([centre, y], 1)
    d = x[:, :, None, :] - x[:, None, :, :]
    d = d - L * torch.round(d / L)
    iu = torch.triu_indices(N, N, 1)
    r2 = (d * d).sum(-1)[:, iu[0], iu[1]]
    shift = lj(torch.tensor(RC * RC, dtype=torch.float64), eps)
    u_in = lj(torch.tensor(RIN * RIN, dtype=torch.float64), eps) - shift
    du_in = -24 * eps * (2 / RIN ** 13 - 1 / RIN ** 7)
    inside = r2 < RC * RC
    lin = r2 < RIN * RIN
    safe = torch.where(lin | ~inside, torch.ones_like(r2), r2)
    u = torch.where(inside, torch.where(lin, u_in + du_in * (torch.sqrt(r2 + 1e-300) - RIN), lj(safe, eps) - shift),
                    torch.zeros_like(r2))
    a = u.sum(1)
    return torch.where(a < EC, a, EC + torch.log1p(torch.clamp(a - EC, min=0)))


def main():
    threads = [int(t) for t in sys.argv[sys.argv.index("--threads") + 1:]] if "--threads" in sys.argv else [1, torch.get_num_threads()]
    torch.manual_seed(0)
    flow = RealNvp()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(1e-3 * torch.randn_like(p))
    opt = torch.optim.Adam(flow.parameters(), lr=1e-6)
    w_inv = 0.3 * torch.eye(M, dtype=torch.float64)
    mu = torch.rand(M, dtype=torch.float64) * L
    za, zb = torch.randn(B, M), torch.randn(B, M)
    results = []
    for t in threads:
        torch.set_num_threads(t)

        def step():
            opt.zero_grad()
            xa, lda = flow.inverse(zb)
            ya, ldf = flow(za)
            loss = (energy(xa, w_inv, mu, 1.0) - lda.double()).mean() + (energy(ya, w_inv, mu, 0.5) - ldf.double()).mean()
            loss.backward()
            opt.step()

        def forward():
            with torch.no_grad():
                flow(za)

        def median(f):
            f()
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                f()
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        st, fw = median(step), median(forward)
        results.append({"threads": t, "training_step_seconds": round(st, 4), "forward_seconds": round(fw, 5),
                        "forward_configurations_per_second": round(B / fw)})
    print(json.dumps({"benchmark": "flow_pytorch", "torch": torch.__version__,
                      "blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0] if "BLAS_INFO" in torch.__config__.show() else "?",
                      "parameters": sum(p.numel() for p in flow.parameters()), "batch": B, "results": results}, indent=2))


if __name__ == "__main__":
    main()
