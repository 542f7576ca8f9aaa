// See realnvp.hpp. The element-wise maths is src/flow/coupling_math.hpp (shared with
// kernels/realnvp.cu, the CUDA twin CudaRealNvp: src/flow/realnvp_cuda.hpp). Notation in the comments: K = kept components (the networks' input h),
// T = transformed components; forward y_T = x_T ⊙ e^s + t, inverse x_T = (y_T − t) ⊙ e^(−s).
// Nothing here allocates once the Cache holds buffers of the batch's size: products go through
// gemm() (packing buffers in the Cache), every result is written into an existing matrix, and the
// parities are strided column views (Eigen::seqN), not index vectors (which Eigen would copy).
#include "flow/realnvp.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "flow/coupling_math.hpp"

namespace boltzmap {

template <class T>
RealNvp<T>::RealNvp(FlowShape shape, std::uint64_t seed) : shape_(std::move(shape)) {
  const int D = shape_.dim;
  if (D < 2 || shape_.blocks < 1) throw Error(ExitCode::failure, "RealNvp: need dim ≥ 2 and at least one block");
  std::size_t offset = 0;
  for (int b = 0; b < shape_.blocks; ++b) {
    Block blk;
    const int even = (D + 1) / 2, odd = D / 2;  // components with 0-based even and odd index
    blk.keep = b % 2 == 0 ? Columns{0, even} : Columns{1, odd};
    blk.trans = b % 2 == 0 ? Columns{1, odd} : Columns{0, even};
    blk.s = make_mlp(blk.keep.count, blk.trans.count, offset);
    blk.t = make_mlp(blk.keep.count, blk.trans.count, offset);
    blocks_.push_back(std::move(blk));
  }
  params_.assign(offset, T(0));
  // Glorot-uniform weights of every layer but the last of each network; biases and last layers 0.
  std::uint32_t layer_id = 0;
  for (const Block& blk : blocks_)
    for (const Mlp* m : {&blk.s, &blk.t})
      for (std::size_t l = 0; l < m->layers.size(); ++l, ++layer_id) {
        const Layer& ly = m->layers[l];
        if (l + 1 == m->layers.size()) continue;
        const double a = std::sqrt(6.0 / (ly.in + ly.out));
        for (std::size_t i = 0; i < static_cast<std::size_t>(ly.in) * ly.out; ++i) {
          const Random4 r = philox(seed, RngStream::Init, layer_id, i);
          params_[ly.w + i] = static_cast<T>(a * (2.0 * uniform_double(r.v[0], r.v[1]) - 1.0));
        }
      }
}

template <class T>
typename RealNvp<T>::Mlp RealNvp<T>::make_mlp(int in, int out, std::size_t& offset) {
  Mlp m;
  int prev = in;
  std::vector<int> widths = shape_.hidden;
  widths.push_back(out);
  for (int w : widths) {
    Layer ly{offset, offset + static_cast<std::size_t>(prev) * w, prev, w};
    offset = ly.b + w;
    m.layers.push_back(ly);
    prev = w;
  }
  return m;
}

template <class T>
void RealNvp<T>::mlp_forward(const Mlp& m, const Mat& h, MlpCache& c, GemmWorkspace<T>& ws) const {
  using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
  const std::size_t L = m.layers.size();
  c.act.resize(L);
  c.act[0] = h;
  for (std::size_t l = 0; l < L; ++l) {
    const Layer& ly = m.layers[l];
    const Eigen::Map<const Mat> W(params_.data() + ly.w, ly.out, ly.in);
    const Eigen::Map<const RowVec> bias(params_.data() + ly.b, ly.out);
    Mat& dst = l + 1 < L ? c.act[l + 1] : c.out;
    gemm(dst, c.act[l], W.transpose(), false, ws);
    dst.rowwise() += bias;
    if (l + 1 < L) dst.array() = dst.array().tanh();
  }
}

template <class T>
void RealNvp<T>::mlp_backward(const Mlp& m, const MlpCache& c, const Mat& g_out, ParamVector<T>& grad, Mat& gh,
                              Cache& cache) const {
  using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
  const std::size_t L = m.layers.size();
  cache.delta.resize(L - 1);
  const Mat* g = &g_out;  // dL/d(layer l's output before its activation)
  for (std::size_t l = L; l-- > 0;) {
    const Layer& ly = m.layers[l];
    const Eigen::Map<const Mat> W(params_.data() + ly.w, ly.out, ly.in);
    Eigen::Map<Mat> gW(grad.data() + ly.w, ly.out, ly.in);
    gemm(gW, g->transpose(), c.act[l], true, cache.gemm);
    Eigen::Map<RowVec>(grad.data() + ly.b, ly.out) += g->colwise().sum();
    if (l > 0) {
      Mat& d = cache.delta[l - 1];
      gemm(d, *g, W, false, cache.gemm);              // dL/d(tanh output of layer l − 1)
      d.array() *= coupling::tanh_grad<T>(c.act[l].array());  // through the tanh
      g = &d;
    } else {
      gemm(gh, *g, W, true, cache.gemm);
    }
  }
}

template <class T>
void RealNvp<T>::block_st(const Block& b, const Mat& h, BlockCache& c, GemmWorkspace<T>& ws) const {
  mlp_forward(b.s, h, c.mlp_s, ws);
  mlp_forward(b.t, h, c.mlp_t, ws);
  const T a = static_cast<T>(shape_.scale_bound);
  if (a > T(0))
    c.s = coupling::bound(c.mlp_s.out.array(), a);
  else
    c.s = c.mlp_s.out;
  c.t = c.mlp_t.out;
}

template <class T>
void RealNvp<T>::bound_backward(const BlockCache& c, Mat& gs) const {
  const T a = static_cast<T>(shape_.scale_bound);
  if (a > T(0)) gs.array() *= coupling::bound_grad<T>(c.s.array(), a);  // d[a·tanh(u/a)]/du = 1 − tanh²
}

template <class T>
void RealNvp<T>::forward(const Mat& x, Mat& y, Vec& logdet, FlowCache* cache) const {
  Cache local;
  Cache& c = cache ? own_cache<Cache>(*cache, "RealNvp::forward") : local;
  c.block.resize(blocks_.size());
  y = x;
  logdet.setZero(x.rows());
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Block& blk = blocks_[b];
    BlockCache& bc = c.block[b];
    bc.keep = y(Eigen::all, blk.keep.of());
    bc.trans_in = y(Eigen::all, blk.trans.of());
    block_st(blk, bc.keep, bc, c.gemm);
    bc.trans_out = coupling::forward(bc.trans_in.array(), bc.s.array(), bc.t.array());
    y(Eigen::all, blk.trans.of()) = bc.trans_out;
    logdet += bc.s.rowwise().sum();
  }
}

template <class T>
void RealNvp<T>::inverse(const Mat& y, Mat& x, Vec& logdet, FlowCache* cache) const {
  Cache local;
  Cache& c = cache ? own_cache<Cache>(*cache, "RealNvp::inverse") : local;
  c.block.resize(blocks_.size());
  x = y;
  logdet.setZero(y.rows());
  for (std::size_t b = blocks_.size(); b-- > 0;) {
    const Block& blk = blocks_[b];
    BlockCache& bc = c.block[b];
    bc.keep = x(Eigen::all, blk.keep.of());
    bc.trans_in = x(Eigen::all, blk.trans.of());
    block_st(blk, bc.keep, bc, c.gemm);
    bc.trans_out = coupling::inverse(bc.trans_in.array(), bc.s.array(), bc.t.array());
    x(Eigen::all, blk.trans.of()) = bc.trans_out;
    logdet -= bc.s.rowwise().sum();
  }
}

template <class T>
void RealNvp<T>::backward_forward(FlowCache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad, Mat& gx) const {
  Cache& c = own_cache<Cache>(cache, "RealNvp::backward_forward");
  if (grad.size() != params_.size()) grad.assign(params_.size(), T(0));
  gx = gy;
  for (std::size_t b = blocks_.size(); b-- > 0;) {
    const Block& blk = blocks_[b];
    const BlockCache& bc = c.block[b];
    BlockGrad& g = c.parity_grad[b % 2];
    g.trans = gx(Eigen::all, blk.trans.of());  // dL/dy_T
    g.keep = gx(Eigen::all, blk.keep.of());    // dL/dy_K = dL/dx_K before the networks' share
    // y_T = x_T e^s + t: ∂/∂x_T = e^s, ∂/∂s = x_T e^s (+1 from log|det| = Σs), ∂/∂t = 1.
    g.s = coupling::forward_grad_s(g.trans.array(), bc.trans_in.array(), bc.s.array());
    g.s.colwise() += gld;
    bound_backward(bc, g.s);
    mlp_backward(blk.s, bc.mlp_s, g.s, grad, g.keep, c);
    mlp_backward(blk.t, bc.mlp_t, g.trans, grad, g.keep, c);
    gx(Eigen::all, blk.trans.of()) = coupling::forward_grad_x(g.trans.array(), bc.s.array());
    gx(Eigen::all, blk.keep.of()) = g.keep;
  }
}

template <class T>
void RealNvp<T>::backward_inverse(FlowCache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad, Mat& gy) const {
  Cache& c = own_cache<Cache>(cache, "RealNvp::backward_inverse");
  if (grad.size() != params_.size()) grad.assign(params_.size(), T(0));
  gy = gx;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Block& blk = blocks_[b];
    const BlockCache& bc = c.block[b];
    BlockGrad& g = c.parity_grad[b % 2];
    g.trans = gy(Eigen::all, blk.trans.of());  // dL/dx_T
    g.keep = gy(Eigen::all, blk.keep.of());
    // x_T = (y_T − t) e^(−s): ∂/∂y_T = e^(−s), ∂/∂t = −e^(−s), ∂/∂s = −x_T (and −1 from log|det| = −Σs).
    g.s = coupling::inverse_grad_s(g.trans.array(), bc.trans_out.array());
    g.s.colwise() -= gld;
    bound_backward(bc, g.s);
    g.t = coupling::inverse_grad_t(g.trans.array(), bc.s.array());
    mlp_backward(blk.s, bc.mlp_s, g.s, grad, g.keep, c);
    mlp_backward(blk.t, bc.mlp_t, g.t, grad, g.keep, c);
    gy(Eigen::all, blk.trans.of()) = -g.t;
    gy(Eigen::all, blk.keep.of()) = g.keep;
  }
}

template class RealNvp<float>;
template class RealNvp<double>;

}  // namespace boltzmap
