// The streamed source pool (DESIGN.md "Parallel shape"; issue 11): with `[parallel] sampler_ranks
// = k > 0` the pool's walkers live on the k sampler ranks, which advance the members a step draws
// while the trainer ranks train on the step before. Trainer side: StreamedSourcePool (a SourcePool);
// sampler side: PoolServer, polled by the sampler rank's loop (app/cmd_train.cpp) between its
// tests of the per-epoch collective.
//
// Division of work. Sampler j of S advances the batch rows block_of(k, j, S) of each step (row i
// of step s: walker s·batch_size + i from its member's configuration: pool_members and
// advance_pool_rows, the draws of LocalSourcePool), so the numbers do not depend on S, on the
// number of trainers or on timing: the pool after training is bitwise the 1-rank pool. Contiguous
// rows are contiguous walker ids, so a sampler runs them as one WalkerSet (SIMD blocks of 16
// walkers; one walker per set was 8× slower). Each sampler therefore holds the whole pool, and after
// answering a step the samplers allgather its rows among themselves, as the trainers of a
// LocalSourcePool do at commit. Every trainer receives all k rows of each step and keeps a mirror
// of the whole pool, updated on commit() exactly as a LocalSourcePool is: contents() is local and
// cheap (checkpoints, the trainers' state hash and the saved state of a failed step need no
// message; a gather at checkpoint time would be a collective in places only rank 0 reaches), and
// restore() sets the mirror and re-sends it to the samplers before the next batch. Cost: k·N·D
// floats per trainer per step (64 KiB for batch 512, N = 32, D = 2) and the pool once per rank.
//
// Messages (a duplicate of the job's communicator, so they never meet another one). Trainer 0
// sends each sampler small control messages: START (the step, P, n_b, then the pool),
// REQUEST (step, k) at next_batch, COMMIT (step) at commit(), STOP at the end; every sampler answers
// a REQUEST by sending its rows of that batch to every trainer (non-blocking; the sent buffer is
// kept until the step's decision, while the next batch is prepared in the other buffer: double
// buffering). A sampler sends only what was asked for, so no message is left unreceived when the
// job stops (by a signal or at the end), and a stale prefetch is never seen by a trainer.
//
// Prefetch and commit. After sending step s the sampler prepares the next drawing step q
// (PoolSchedule) before it is asked for, and before s's decision is known. A row of q whose member
// s also drew depends on that decision: accepted, it starts from s's advanced row; rejected (no
// COMMIT between s's batch and q's REQUEST: a non-finite loss or gradient), from the pool as it
// was. The sampler guesses "accepted" (the only outcome that lets training go on: today a rejected
// step stops it); a COMMIT confirms the guess, and a REQUEST that finds s undecided drops s's rows
// and, if any row of q was guessed, computes q again from the unchanged pool before sending. So
// the batch sent is always the one LocalSourcePool makes, and a wrong guess costs one share of MC.
// A REQUEST that is not the step prepared (a schedule that disagrees, the first step after START)
// is computed when it comes: slower, never different. Work is done in runs of kRun rows between
// looks at the control messages. The stall share = the trainers' time waiting in next_batch over
// their step time (train.pool_stall_fraction).
// Tests: mpi_pool_stream_np2/np3 (tests/mpi/test_pool_stream.cpp: every batch and the pool after
// every commit against a LocalSourcePool, with rejected steps, an off-schedule request, a restore,
// a pool smaller than the batch); mpi_train_pool_stream_np1_2_4 (tests/mpi/pool_stream.sh: 1 rank vs
// 1 trainer + 1 sampler vs 2 + 2, pool bitwise and parameters within tolerance; a signal to the
// sampler rank and the resume = the uninterrupted run; a diverging run).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "flow/source_pool.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

struct PoolLink {
  Comm world;    // a duplicate (Comm::duplicate) of the job's communicator, on every rank
  int trainers;  // world ranks 0 … trainers − 1 train (trainer rank r is world rank r); the rest sample
  int samplers() const { return world.size() - trainers; }
};

// What the samplers report at STOP (summed over them).
struct PoolStats {
  std::int64_t batches = 0;   // REQUESTs answered
  std::int64_t prepared = 0;  // of which the batch was complete when the REQUEST came
  double busy_seconds = 0;    // MC time
};

class StreamedSourcePool final : public SourcePool {
 public:
  // initial: the pool [P][N][D] (every trainer passes the same); b_train_rows: n_b, for the schedule.
  StreamedSourcePool(const PoolParams& p, std::vector<float> initial, PoolLink link, std::int64_t b_train_rows);
  std::span<const float> next_batch(std::int64_t step, int k, Range mine) override;
  void commit() override;
  const std::vector<float>& contents() const override { return mirror_; }
  void restore(std::vector<float> contents) override;
  double seconds() const override { return seconds_; }

 private:
  PoolParams p_;
  std::vector<float> mirror_;  // [P][N][D]: the pool as the samplers hold it after the last commit
  PoolLink link_;
  std::int64_t b_rows_;
  int stride_;
  bool started_ = false;  // the samplers hold mirror_ (false at first and after restore)
  std::int64_t step_ = -1;
  std::vector<std::int64_t> members_, order_;
  std::vector<float> batch_;  // [k][N][D], all rows of the last next_batch
  double seconds_ = 0;
};

// A sampler rank's side. poll() does one piece of work (a control message, or a run of rows of the
// batch being prepared) and says whether there was any; stopped() after STOP.
class PoolServer {
 public:
  // samplers: the sampler ranks' communicator (Comm::split), for the allgather of each step's rows.
  PoolServer(const PoolParams& p, const TrainingSettings& t, PoolLink link, Comm samplers);
  bool poll();
  bool stopped() const { return stopped_; }
  // This sampler rank's pool MC on its GPU (the CUDA engine) from now on.
  void use_cuda_engine() { mc_.set_kind(McEngineKind::cuda); }

 private:
  struct Batch {
    std::int64_t step = -1;             // −1: none
    std::vector<std::int64_t> members;  // [k] pool rows
    Range mine{0, 0};                   // this sampler's rows, block_of(k, j, S)
    std::vector<float> out;             // [k][N][D]: mine; every row once gathered (pending)
    std::int64_t done = 0;              // rows of mine done, from mine.begin
    bool guessed = false;               // a done row started from the pending step's row
    std::vector<Request> sends;         // to each trainer, while pending
  };
  void handle(const std::array<std::int64_t, 4>& m);
  void prepare(Batch& b, std::int64_t step, int k);
  bool advance_some(Batch& b);  // the next run of rows of mine; false: all done
  void release(Batch& b);       // waits for its sends, then empties it

  PoolParams p_;
  PoolAdvancer mc_;
  TrainingSettings training_;
  PoolLink link_;
  Comm samplers_;
  int index_, stride_;
  std::vector<float> pool_;              // [P][N][D], as committed
  std::vector<std::int64_t> from_;       // [P]: the pending step's (last) row of the member, −1: none
  std::vector<PoolSchedule> schedule_;   // one once started
  Batch pending_, ahead_;                // sent, awaiting the decision; being prepared
  std::vector<std::int64_t> order_;
  std::vector<const float*> starts_;
  std::array<std::int64_t, 4> control_{};
  Request control_req_;
  bool stopped_ = false;
  PoolStats stats_;
};

// Trainer 0, once training is over (or never needed the pool): STOP to every sampler; returns
// their PoolStats summed.
PoolStats stop_pool_servers(const PoolLink& link);

}  // namespace boltzmap
