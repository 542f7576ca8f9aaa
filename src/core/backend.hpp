// The backend choice (input key `backend` = auto | cpu | cuda), said out loud (STYLE 10). What this
// process can use (CUDA compiled in, the visible GPUs) is probed once, in main (probe_accelerators),
// and handed to every stage; each stage then resolves the input's choice against its own entry of
// the per-stage table below (has_cuda_implementation): auto picks CUDA only where the stage has a
// CUDA implementation and a GPU is visible, and says why otherwise; cuda fails hard (exit 6, naming
// the stage) where either is missing. Never a silent fallback. In this version three stages have
// a CUDA implementation: sample (the CUDA MC engine), train (the real-NVP's steps; the equivariant
// flow is refused by app/stage_start.cpp) and analyze (its per-chunk pair histograms and bootstrap
// sums); preprocess and map not yet (issue 14).
// Tests: tests/core/test_backend.cpp, tests/app/stages.sh.
#pragma once
#include <string>
#include <vector>

namespace boltzmap {

// What this process could run on: found once per process.
struct Accelerators {
  bool cuda_compiled = false;
  std::vector<std::string> devices;  // visible CUDA devices (empty without CUDA or GPU)
  int device = 0;                    // this rank's device (an index into devices): assign_device
  bool cuda_usable() const { return cuda_compiled && !devices.empty(); }
};
Accelerators probe_accelerators();

// Rank → GPU: the node-local rank's device among the visible ones, local_rank mod count (ranks
// 0, 1, … of a node on devices 0, 1, …; more ranks than GPUs share them round-robin). Under
// SLURM with --gpus-per-task each rank sees one device and takes it (count 1).
int device_for_local_rank(int local_rank, int device_count);
// Sets acc.device from the node-local rank and makes it the current CUDA device of this process
// (cudaSetDevice, before any other CUDA call of a stage); a no-op where CUDA is not usable.
void assign_device(Accelerators& acc, int local_rank);

// The stages of the pipeline (the subcommands that compute; `run` runs them in turn).
enum class PipelineStage { sample, preprocess, train, map, analyze };
const char* stage_name(PipelineStage s);  // "sample", …, as the subcommands are called
// The per-stage table: whether the stage has a CUDA implementation in this build.
bool has_cuda_implementation(PipelineStage s);

enum class BackendKind { cpu, cuda };

// What one stage runs on, resolved from the input's `backend` key.
struct Backend {
  BackendKind kind = BackendKind::cpu;
  std::string requested = "auto";  // the input's value
  std::string device = "cpu";      // the rank table's column: "cpu" or "cuda:0 <name>"
  std::string reason;              // one log line: what the stage runs on, and why
};

// Throws Error(ExitCode::backend) for requested = "cuda" when the stage has no CUDA implementation
// (naming the stage) or CUDA is not usable here; `origin` (the input file) starts the message.
Backend resolve_backend(const std::string& requested, PipelineStage stage, const Accelerators& acc,
                        const std::string& origin);
// The same for several stages at once (`boltzmap run`, before its first stage): one message
// naming every stage that has no CUDA implementation.
std::vector<Backend> resolve_backends(const std::string& requested, const std::vector<PipelineStage>& stages,
                                      const Accelerators& acc, const std::string& origin);

}  // namespace boltzmap
