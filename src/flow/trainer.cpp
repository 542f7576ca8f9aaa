// See trainer.hpp.
#include "flow/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "flow/make_flow.hpp"
#include "flow/source_pool.hpp"
#include "physics/experiment_physics.hpp"
#include "sampling/walkers.hpp"
#ifdef BOLTZMAP_HAVE_CUDA
#include "flow/train_steps_cuda.hpp"
#else
namespace boltzmap {
class CudaTrainSteps {};  // never made without CUDA (use_cuda_steps throws); complete for ~Trainer
}  // namespace boltzmap
#endif

namespace boltzmap {

namespace {

constexpr double kNoClamp = 1e300;

}  // namespace

Trainer::Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data, Comm trainers,
                 std::unique_ptr<GradientReducer> reducer, const PoolLink* stream)
    : Trainer(e, pre, std::move(data), std::optional<Comm>(trainers), stream) {
  trainers_ = std::move(trainers);
  reducer_ = reducer ? std::move(reducer) : make_gradient_reducer(*trainers_);
  group_rank_ = trainers_->rank();
  group_size_ = trainers_->size();
}

Trainer::Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data)
    : Trainer(e, pre, std::move(data), std::optional<Comm>(), nullptr) {}

Trainer::Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data, std::optional<Comm> pool_ranks,
                 const PoolLink* stream)
    : flow_(make_flow(e, pre, derive_seed(e.seed, 5))),
      experiment_(e),
      pre_(pre),
      data_(std::move(data)),
      sys_a_(physical_system(e.system('A'), e.box.dimension, e.box.n_particles)),
      sys_b_(physical_system(e.system('B'), e.box.dimension, e.box.n_particles)),
      energy_a_(pre, sys_a_, e.training.clamp_energy),
      energy_b_(pre, sys_b_, e.training.clamp_energy, 'B'),
      raw_energy_a_(pre, sys_a_, kNoClamp),
      raw_energy_b_(pre, sys_b_, kNoClamp, 'B'),
      seed_batch_(derive_seed(e.seed, 6)),
      seed_augment_(derive_seed(e.seed, 7)),
      n_(e.box.n_particles),
      d_(e.box.dimension) {
  const int stride = n_ * d_;
  if (data_.b_train.empty()) throw input_error("training needs B's training set (datasets.train of system B > 0)");
  // B's reference energy range: the 1st and 99th percentiles of its training set (the order
  // statistics at ⌊0.01(n − 1)⌋ and ⌈0.99(n − 1)⌉); "in range" is strictly between them.
  std::vector<double> u;
  for (std::size_t r = 0; r * stride < data_.b_train.size(); ++r)
    u.push_back(total_energy<float>(sys_b_, std::span<const float>(data_.b_train.data() + r * stride, stride)));
  std::sort(u.begin(), u.end());
  b_low_ = u[static_cast<std::size_t>(std::floor(0.01 * (u.size() - 1)))];
  b_high_ = u[static_cast<std::size_t>(std::ceil(0.99 * (u.size() - 1)))];
  // From here on B's sets live in the preprocessing's (A's) box: the box-scaling layer's S⁻¹, the
  // first step of B's preprocessing T_B = P ∘ S⁻¹ (preprocessor.hpp). The energies of B's latent
  // rows (energy_b_, raw_energy_b_) apply S again.
  pre_.into_preprocessing_box('B', data_.b_train);
  pre_.into_preprocessing_box('B', data_.b_validation);
  // The source pool: A's training configurations (cycled to pool_size if that is larger).
  const std::int64_t a_rows = static_cast<std::int64_t>(data_.a_train.size() / stride);
  const std::int64_t b_rows = static_cast<std::int64_t>(data_.b_train.size() / stride);
  bool needs_pool = false;
  for (const auto& p : e.training.phases) needs_pool |= p.lambda_inv > 0;
  if (needs_pool) {
    if (a_rows == 0) throw input_error("phases with lambda_inv > 0 need A's training set (the source pool)");
    const std::int64_t size = e.training.pool_size > 0 ? e.training.pool_size : a_rows;
    std::vector<float> rows(static_cast<std::size_t>(size) * stride);
    for (std::int64_t r = 0; r < size; ++r)
      std::copy_n(data_.a_train.data() + (r % a_rows) * stride, stride, rows.data() + r * stride);
    if (stream)
      pool_ = std::make_unique<StreamedSourcePool>(pool_params(e), std::move(rows), *stream, b_rows);
    else
      pool_ = std::make_unique<LocalSourcePool>(pool_params(e), std::move(rows), std::move(pool_ranks));
  }
}

Trainer::~Trainer() = default;

std::string Trainer::use_cuda_steps() {
#ifdef BOLTZMAP_HAVE_CUDA
  if (group_size_ > 1) reducer_ = make_gradient_reducer(*trainers_, true);
  cuda_ = std::make_unique<CudaTrainSteps>(*flow_, adam, pre_, energy_a_, energy_b_, group_size_ > 1 ? reducer_.get() : nullptr);
  if (pool_) pool_->use_cuda_engine();  // a local pool's MC on this rank's GPU too (a streamed one's is the samplers')
  return cuda_->description();
#else
  throw Error(ExitCode::backend, "the CUDA training steps need a build with CUDA (-DBOLTZMAP_CUDA=ON)");
#endif
}

std::pair<int, std::int64_t> Trainer::phase_of(std::int64_t epoch) const {
  const auto& phases = experiment_.training.phases;
  for (int p = 0; p < static_cast<int>(phases.size()); ++p) {
    if (epoch < phases[p].epochs) return {p, epoch};
    epoch -= phases[p].epochs;
  }
  return {static_cast<int>(phases.size()) - 1, phases.back().epochs};
}

void Trainer::gather(std::span<const float> set, std::span<const std::int64_t> rows, bool training,
                     std::uint64_t id0, PreprocessBuffers& buf) const {
  const int stride = n_ * d_, k = static_cast<int>(rows.size());
  buf.x.resize(static_cast<std::size_t>(k) * stride);
  for (int i = 0; i < k; ++i) std::copy_n(set.data() + rows[i] * stride, stride, buf.x.data() + static_cast<std::size_t>(i) * stride);
  buf.centre.resize(k);
  buf.element.resize(k);
  if (training)
    pre_.training_choices(seed_augment_, id0, buf.centre, buf.element);
  else
    Preprocessor::evaluation_choices(buf.centre, buf.element);
}

void Trainer::preprocess(std::span<const float> set, std::span<const std::int64_t> rows, bool training,
                         std::uint64_t id0, Flow<float>::Mat& z, PreprocessBuffers& buf) const {
  gather(set, rows, training, id0, buf);
  const int k = static_cast<int>(rows.size());
  z.resize(k, pre_.latent_dim());
  pre_.forward(BatchView{buf.x.data(), k, n_, d_}, buf.centre, buf.element, z.data());
}

LossValues Trainer::train_step(const TrainingPhase& P, int phase, double lr, std::span<const std::int64_t> rows) {
  StepBuffers& b = buffers_;
  const int batch = experiment_.training.batch_size, k = static_cast<int>(rows.size());
  const std::uint64_t id0 = static_cast<std::uint64_t>(step_) * 2 * batch;
  // This trainer rank's share of the batch: rows [mine) of B's and of the pool's, with the
  // augmentation draws of those rows (keyed by their place in the whole batch).
  // On CUDA the rows and their choices go to the device as they are (CudaTrainSteps preprocesses
  // them there); on the CPU they are preprocessed here.
  const Range mine = block_of(k, group_rank_, group_size_);
  gather(data_.b_train, rows.subspan(mine.begin, mine.count()), true, id0 + mine.begin, b.pre);
  if (!cuda_) {
    b.zb.resize(b.pre.centre.size(), pre_.latent_dim());
    pre_.forward(BatchView{b.pre.x.data(), static_cast<int>(b.pre.centre.size()), n_, d_}, b.pre.centre, b.pre.element,
                 b.zb.data());
  }
  if (P.lambda_inv > 0) {
    const std::span<const float> a = pool_->next_batch(step_, k, mine);
    b.first_rows.resize(static_cast<std::size_t>(mine.count()));
    std::iota(b.first_rows.begin(), b.first_rows.end(), std::int64_t{0});
    gather(a, b.first_rows, true, id0 + batch + mine.begin, b.pre_a);
  } else {
    b.pre_a.x.clear();
    b.pre_a.centre.clear();
    b.pre_a.element.clear();
  }
  if (!cuda_) {
    b.za.resize(b.pre_a.centre.size(), pre_.latent_dim());
    if (b.za.rows() > 0)
      pre_.forward(BatchView{b.pre_a.x.data(), static_cast<int>(b.pre_a.centre.size()), n_, d_}, b.pre_a.centre,
                   b.pre_a.element, b.za.data());
  }
  // The whole batch's gradient and losses on every trainer rank, before anything can throw: the
  // checks below then fail (or pass) on every rank alike.
  LossValues L;
  bool grad_finite = true, preprocessed = true;
  if (cuda_) {
#ifdef BOLTZMAP_HAVE_CUDA
    const auto raw = [](const PreprocessBuffers& p) {
      return RawBatch{p.x.data(), p.centre.data(), p.element.data(), static_cast<int>(p.centre.size())};
    };
    L = cuda_->losses_and_gradient(raw(b.pre_a), raw(b.pre), P.lambda_dir, P.lambda_inv, k, &grad_finite,
                                   &preprocessed);  // gradient reduced
#endif
  } else {
    b.grad.assign(flow_->parameter_count(), 0.0f);
    L = losses<float>(*flow_, energy_a_, energy_b_, b.za, b.zb, P.lambda_dir, P.lambda_inv, &b.grad, &b.loss, k);
    if (group_size_ > 1) reducer_->allreduce_sum(std::span<float>(b.grad.data(), b.grad.size()));
    for (float g : b.grad)
      if (!std::isfinite(g)) {
        grad_finite = false;
        break;
      }
  }
  if (group_size_ > 1) {
    double v[3] = {L.dir, L.inv, preprocessed ? 0.0 : 1.0};  // every rank learns of any rank's failed batch
    trainers_->allreduce_sum(std::span<double>(v, 3));
    L = {v[0], v[1]};
    preprocessed = v[2] == 0.0;
  }
  [[maybe_unused]] const bool losses_finite = std::isfinite(L.dir) && std::isfinite(L.inv);
#ifdef BOLTZMAP_HAVE_CUDA
  if (cuda_ && (!losses_finite || !grad_finite || !preprocessed)) cuda_->download(*flow_, adam);  // the host state before this step
#endif
  if (!preprocessed)
    throw numerical_error(fmt::format("epoch {} (phase {}, step {}): a configuration of the batch has a non-finite "
                                      "coordinate (its relabelling on the GPU failed); the parameters are those before "
                                      "this step",
                                      next_epoch_ + 1, phase + 1, step_));
  for (const auto& [name, value] : {std::pair{"L_dir", L.dir}, std::pair{"L_inv", L.inv}})
    if (!std::isfinite(value))
      throw numerical_error(fmt::format("epoch {} (phase {}, step {}): {} = {}; the parameters are those before this step",
                                        next_epoch_ + 1, phase + 1, step_, name, value));
  if (!grad_finite)
    throw numerical_error(fmt::format("epoch {} (phase {}, step {}): a gradient of λ_dir·L_dir + λ_inv·L_inv is not "
                                      "finite; the parameters are those before this step",
                                      next_epoch_ + 1, phase + 1, step_));
  // Only now, with the step accepted, do the advanced configurations replace their pool members.
  if (P.lambda_inv > 0) pool_->commit();
#ifdef BOLTZMAP_HAVE_CUDA
  if (cuda_) cuda_->step(lr);
#endif
  if (!cuda_) adam.step(flow_->parameters(), b.grad, lr);
  ++step_;
  return L;
}

EpochMetrics Trainer::train_epoch() {
  const auto t0 = std::chrono::steady_clock::now();
  const auto [ph, ep_in] = phase_of(next_epoch_);
  const TrainingPhase& P = experiment_.training.phases[ph];
  const double lr = P.lr_at(ep_in);
  const int stride = n_ * d_, batch = experiment_.training.batch_size;
  const std::int64_t nb = static_cast<std::int64_t>(data_.b_train.size() / stride);
  keyed_permutation(nb, seed_batch_, RngStream::Batch, static_cast<std::uint32_t>(next_epoch_), buffers_.order);
  const std::span<const std::int64_t> order(buffers_.order);
  EpochMetrics m;
  m.epoch = next_epoch_;
  m.phase = ph;
  m.learning_rate = lr;
  const double pool_before = pool_ ? pool_->seconds() : 0.0;
  for (std::int64_t start = 0; start < nb; start += batch) {
    const auto s0 = std::chrono::steady_clock::now();
    const LossValues L = train_step(P, ph, lr, order.subspan(start, std::min<std::int64_t>(batch, nb - start)));
    m.step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    ++m.steps;
    m.loss_dir_train += L.dir;
    m.loss_inv_train += L.inv;
  }
  m.pool_seconds = pool_ ? pool_->seconds() - pool_before : 0.0;
#ifdef BOLTZMAP_HAVE_CUDA
  if (cuda_) cuda_->download(*flow_, adam);  // the host's flow and Adam for validation and checkpoints
#endif
  m.loss_dir_train = P.lambda_dir > 0 ? m.loss_dir_train / std::max<std::int64_t>(1, m.steps) : NAN;  // not trained
  m.loss_inv_train = P.lambda_inv > 0 ? m.loss_inv_train / std::max<std::int64_t>(1, m.steps) : NAN;
  ++next_epoch_;
  const EpochMetrics v = validate();
  m.loss_dir_validation = v.loss_dir_validation;
  m.loss_inv_validation = v.loss_inv_validation;
  m.fraction_in_range = v.fraction_in_range;
  m.ress_validation = v.ress_validation;
  m.out_of_domain_a_to_b = v.out_of_domain_a_to_b;
  m.out_of_domain_b_to_a = v.out_of_domain_b_to_a;
  add_training_set_metrics(m);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check_metrics_finite(m, P);
  return m;
}

void Trainer::check_metrics_finite(const EpochMetrics& m, const TrainingPhase& P) const {
  // Every metric that was computed (its data set exists, its loss term is trained) must be
  // finite: a NaN here means the last steps diverged, and nothing may be written from this state.
  const bool a_val = !data_.a_validation.empty(), b_val = !data_.b_validation.empty(), a_train = !data_.a_train.empty();
  const std::pair<const char*, std::pair<bool, double>> checks[] = {
      {"L_dir (training)", {P.lambda_dir > 0, m.loss_dir_train}},
      {"L_inv (training)", {P.lambda_inv > 0, m.loss_inv_train}},
      {"L_dir (validation)", {b_val, m.loss_dir_validation}},
      {"L_inv (validation)", {a_val, m.loss_inv_validation}},
      {"fraction in range (validation)", {a_val, m.fraction_in_range}},
      {"RESS (validation)", {a_val, m.ress_validation}},
      {"outside-domain share A→B (validation)", {a_val, m.out_of_domain_a_to_b}},
      {"outside-domain share B→A (validation)", {b_val, m.out_of_domain_b_to_a}},
      {"fraction in range (training set)", {a_train, m.fraction_in_range_train}},
      {"RESS (training set)", {a_train, m.ress_train}}};
  for (const auto& [name, c] : checks)
    if (c.first && !std::isfinite(c.second))
      throw numerical_error(fmt::format("epoch {} (phase {}, learning rate {:.3g}): {} = {} after the epoch's {} steps; "
                                        "the flow diverged (a smaller learning rate?)",
                                        m.epoch + 1, m.phase + 1, m.learning_rate, name, c.second, m.steps));
}

std::vector<std::int64_t> Trainer::share_of(std::int64_t n) const {
  const Range mine = block_of(n, group_rank_, group_size_);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(mine.count()));
  std::iota(rows.begin(), rows.end(), mine.begin);
  return rows;
}

void Trainer::sum_over_trainers(std::span<double> v) const {
  if (group_size_ > 1) trainers_->allreduce_sum(v);
}

Trainer::MappingMetrics Trainer::a_to_b_metrics(const Flow<float>::Mat& za, std::int64_t n) const {
  // A → B: fraction in B's energy range and the relative ESS of log w = −βU_B(F) + βU_A + log|det J_F|,
  // log|det J_F| = the flow's + the box-scaling layer's (N − 1)·D·ln s. za holds this rank's
  // share of the n rows (possibly none); the counts and the Kish sums are summed over the ranks.
  const Eigen::Index k = za.rows();
  std::vector<double> logw(static_cast<std::size_t>(k));
  std::vector<std::uint8_t> in(static_cast<std::size_t>(k));
  double sums[4] = {0, 0, 0, 0};  // rows in B's range, rows in the domain, Σw, Σw² (w = e^(log w − max))
  if (k > 0) {
    Flow<float>::Mat y;
    Flow<float>::Vec logdet;
    flow_->forward(za, y, logdet, nullptr);
    Flow<double>::Vec bu_b, bu_a;
    raw_energy_b_.evaluate(y.cast<double>(), bu_b, nullptr);
    raw_energy_a_.evaluate(za.cast<double>(), bu_a, nullptr);
    pre_.in_domain(y.data(), static_cast<int>(k), in);
    for (Eigen::Index r = 0; r < k; ++r) {
      const double u_b = bu_b(r) / sys_b_.beta;
      sums[0] += u_b > b_low_ && u_b < b_high_;
      const double lw = -bu_b(r) + bu_a(r) + logdet(r) + raw_energy_b_.box_log_det();
      // Weight zero outside the canonical domain (METHOD.md "The domain of the map") or for NaN.
      logw[static_cast<std::size_t>(r)] = std::isnan(lw) || !in[static_cast<std::size_t>(r)] ? -std::numeric_limits<double>::infinity() : lw;
    }
    sums[1] = static_cast<double>(std::count(in.begin(), in.end(), 1));
  }
  // Kish's ESS = (Σw)²/Σw², as stats::kish_ess computes it, with the largest finite log-weight of
  // all ranks as the common shift (on one rank: the same operations, the same result).
  double shift = -std::numeric_limits<double>::infinity();
  for (double lw : logw)
    if (std::isfinite(lw)) shift = std::max(shift, lw);
  if (group_size_ > 1) shift = trainers_->max(shift);
  if (std::isfinite(shift))
    for (double lw : logw) {
      const double w = std::exp(lw - shift);
      sums[2] += w;
      sums[3] += w * w;
    }
  sum_over_trainers(sums);
  MappingMetrics mm;
  const double rows = static_cast<double>(n);
  mm.fraction_in_range = sums[0] / rows;
  mm.out_of_domain = 1.0 - sums[1] / rows;
  mm.ress = (std::isfinite(shift) ? sums[2] * sums[2] / sums[3] : 0.0) / rows;
  return mm;
}

void Trainer::add_training_set_metrics(EpochMetrics& m) const {
  if (data_.a_train.empty()) return;
  const auto n = static_cast<std::int64_t>(std::min<std::size_t>(1000, data_.a_train.size() / (static_cast<std::size_t>(n_) * d_)));
  Flow<float>::Mat za(0, pre_.latent_dim());
  PreprocessBuffers buf;
  const std::vector<std::int64_t> rows = share_of(n);
  if (!rows.empty()) preprocess(data_.a_train, rows, false, 0, za, buf);
  const MappingMetrics t = a_to_b_metrics(za, n);
  m.fraction_in_range_train = t.fraction_in_range;
  m.ress_train = t.ress;
}

// Data-parallel: each trainer rank evaluates its block of each set (block_of, as a training batch is
// split) and the ranks sum the parts, so every rank holds the same metrics of the whole set, from
// 1/k of the work. Tolerance between 1 and k ranks: each row is the same computation, but the
// flow's float32 GEMMs run over another number of rows and the double sums add in another order,
// so the losses and the ESS agree to float32 roundings (≲ 1e-6 relative; mpi_train_parallel_np1_2_3
// checks the logged validation losses to 1e-6); the counts (in range, in the domain) are exact
// unless a row lies within a rounding of a bound. One rank gives bitwise the former single-rank values.
EpochMetrics Trainer::validate() const {
  EpochMetrics m;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  m.loss_dir_validation = m.loss_inv_validation = m.fraction_in_range = m.ress_validation = nan;
  m.out_of_domain_a_to_b = m.out_of_domain_b_to_a = nan;
  const auto rows_of = [&](const std::vector<float>& v) { return static_cast<std::int64_t>(v.size() / (static_cast<std::size_t>(n_) * d_)); };
  const Flow<float>::Mat empty(0, pre_.latent_dim());
  PreprocessBuffers buf;
  if (!data_.b_validation.empty()) {
    const std::int64_t n = rows_of(data_.b_validation);
    const std::vector<std::int64_t> rows = share_of(n);
    double part[2] = {0, 0};  // this share's part of the mean L_dir; its rows inside the domain
    if (!rows.empty()) {
      Flow<float>::Mat zb;
      preprocess(data_.b_validation, rows, false, 0, zb, buf);
      part[0] = losses<float>(*flow_, energy_a_, energy_b_, empty, zb, 1.0, 0.0, nullptr, nullptr, n).dir;
      // B → A: the share of generated configurations outside the canonical domain.
      Flow<float>::Mat x;
      Flow<float>::Vec logdet;
      flow_->inverse(zb, x, logdet, nullptr);
      std::vector<std::uint8_t> in(static_cast<std::size_t>(x.rows()));
      pre_.in_domain(x.data(), static_cast<int>(x.rows()), in);
      part[1] = static_cast<double>(std::count(in.begin(), in.end(), 1));
    }
    sum_over_trainers(part);
    m.loss_dir_validation = part[0];
    m.out_of_domain_b_to_a = 1.0 - part[1] / static_cast<double>(n);
  }
  if (!data_.a_validation.empty()) {
    const std::int64_t n = rows_of(data_.a_validation);
    const std::vector<std::int64_t> rows = share_of(n);
    Flow<float>::Mat za(0, pre_.latent_dim());
    double part = 0;  // this share's part of the mean L_inv
    if (!rows.empty()) {
      preprocess(data_.a_validation, rows, false, 0, za, buf);
      part = losses<float>(*flow_, energy_a_, energy_b_, za, empty, 0.0, 1.0, nullptr, nullptr, n).inv;
    }
    sum_over_trainers(std::span<double>(&part, 1));
    m.loss_inv_validation = part;
    const MappingMetrics v = a_to_b_metrics(za, n);
    m.fraction_in_range = v.fraction_in_range;
    m.ress_validation = v.ress;
    m.out_of_domain_a_to_b = v.out_of_domain;
  }
  return m;
}

TrainingState Trainer::state() const {
  TrainingState s;
  s.parameters.assign(flow_->parameters().begin(), flow_->parameters().end());
  s.adam_steps = adam.steps;
  s.adam_m = adam.m;
  s.adam_v = adam.v;
  s.pool = pool();
  s.next_epoch = next_epoch_;
  s.global_step = step_;
  return s;
}

void Trainer::restore(const TrainingState& s) {
  if (s.parameters.size() != flow_->parameter_count() || s.pool.size() != pool().size())
    throw Error(ExitCode::failure, fmt::format("Trainer::restore: a state of {} parameters and {} pool values for a "
                                               "trainer of {} and {}",
                                               s.parameters.size(), s.pool.size(), flow_->parameter_count(), pool().size()));
  std::copy(s.parameters.begin(), s.parameters.end(), flow_->parameters().begin());
  if (pool_) pool_->restore(s.pool);
  adam.steps = s.adam_steps;
  adam.m = s.adam_steps == 0 ? std::vector<double>{} : s.adam_m;
  adam.v = s.adam_steps == 0 ? std::vector<double>{} : s.adam_v;
  set_progress(s.next_epoch, s.global_step);
#ifdef BOLTZMAP_HAVE_CUDA
  if (cuda_) cuda_->upload(*flow_, adam);
#endif
}

const std::vector<float>& Trainer::pool() const {
  static const std::vector<float> none;
  return pool_ ? pool_->contents() : none;
}

}  // namespace boltzmap
