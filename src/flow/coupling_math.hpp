// The element-wise maths of the real-NVP affine coupling (src/flow/realnvp.hpp), written once for
// the CPU reference and the CUDA kernels (STYLE 1): RealNvp<T> calls these on Eigen arrays (so
// its expression trees, and its bits, are what they were), kernels/realnvp.cu calls them on
// scalars. Each function is generic: with a scalar T it is ordinary arithmetic, with an Eigen
// array expression it returns an expression (exp/tanh then resolve to Eigen's by ADL).
// Notation: K = kept components (the networks' input), T = transformed ones;
//   forward  y_T = x_T ⊙ e^s + t,     inverse  x_T = (y_T − t) ⊙ e^(−s),
//   bound    s = a·tanh(u/a) (a > 0; the caller skips it for a = 0), d s/d u = 1 − (s/a)²,
//   tanh     h = tanh(z), d h/d z = 1 − h².
// The reverse-mode pieces take g = dL/d(output of the coupling) and x_T (the transformed part on
// the A side: the forward pass's input, the inverse pass's output).
// Twin users: RealNvp<T> (src/flow/realnvp.cpp) and kernels/realnvp.cu.
// Tests: tests/flow/test_coupling_math.cpp (scalar forms against RealNvp's array forms).
#pragma once
#include <cmath>

#include "core/hd.hpp"

namespace boltzmap::coupling {

// y_T = x_T e^s + t
template <class X, class S, class T>
BOLTZMAP_HD auto forward(const X& x, const S& s, const T& t) {
  using std::exp;
  return x * exp(s) + t;
}

// x_T = (y_T − t) e^(−s)
template <class Y, class S, class T>
BOLTZMAP_HD auto inverse(const Y& y, const S& s, const T& t) {
  using std::exp;
  return (y - t) * exp(-s);
}

// s = a·tanh(u/a), a > 0.
template <class U, class A>
BOLTZMAP_HD auto bound(const U& u, A a) {
  using std::tanh;
  return a * tanh(u / a);
}

// d[a·tanh(u/a)]/du = 1 − tanh²(u/a) = 1 − (s/a)², from the bounded s.
template <class A, class S>
BOLTZMAP_HD auto bound_grad(const S& s, A a) {
  const auto q = s / a;
  return A(1) - q * q;
}

// d tanh(z)/dz = 1 − h², from h = tanh(z).
template <class A, class H>
BOLTZMAP_HD auto tanh_grad(const H& h) {
  return A(1) - h * h;
}

// Forward pass, y_T = x_T e^s + t: ∂L/∂s (before the log-det's +gld and the bound) = g x_T e^s ...
template <class G, class X, class S>
BOLTZMAP_HD auto forward_grad_s(const G& g, const X& x, const S& s) {
  using std::exp;
  return g * x * exp(s);
}
// ... and ∂L/∂x_T = g e^s (∂L/∂t = g).
template <class G, class S>
BOLTZMAP_HD auto forward_grad_x(const G& g, const S& s) {
  using std::exp;
  return g * exp(s);
}

// Inverse pass, x_T = (y_T − t) e^(−s): ∂L/∂s (before the log-det's −gld and the bound) = −g x_T ...
template <class G, class X>
BOLTZMAP_HD auto inverse_grad_s(const G& g, const X& x) {
  return -(g * x);
}
// ... and ∂L/∂t = −g e^(−s) (∂L/∂y_T = −∂L/∂t).
template <class G, class S>
BOLTZMAP_HD auto inverse_grad_t(const G& g, const S& s) {
  using std::exp;
  return -(g * exp(-s));
}

}  // namespace boltzmap::coupling
