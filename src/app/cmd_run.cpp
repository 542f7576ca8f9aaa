// boltzmap run [FILE]: the whole pipeline — sample A, sample B, train, map, analyze (with the
// figures) — skipping every stage whose outputs exist and were made from the same input. Each
// stage's input is the part of the resolved input it depends on (resolved_sections); its FNV-1a
// hash is recorded in out/<name>/stages.json when the stage completes. A stage runs again when
// its hash changed, an output is missing or was made from another input (each output stores the
// input it was made from), or a stage it reads ran in this invocation; an
// interrupted training or sampling resumes from its checkpoint (boltzmap train, boltzmap sample;
// a checkpoint of another input is moved aside with a warning). Without FILE it runs
// inputs/demo.toml. Tests: tests/app/analysis_pipeline.sh (skip, re-run after a change).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/program_files.hpp"
#include "app/resources.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "sampling/sample.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

std::string fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

// A stage: the text of the resolved input its outputs depend on (key), its outputs (paths in the
// run folder; each records the input it was made from) and the earlier stages it reads.
struct Stage {
  std::string name;
  std::function<std::string(const std::string& resolved)> key;
  std::vector<std::string> outputs;
  std::vector<std::string> after;
};

std::function<std::string(const std::string&)> sections(std::vector<std::string> tables,
                                                        std::string analysis_prefix = "") {
  return [tables, analysis_prefix](const std::string& resolved) {
    std::string k = resolved_sections(resolved, tables);
    if (!analysis_prefix.empty()) {  // one key of [analysis] only
      std::istringstream in(resolved_sections(resolved, {"analysis"}));
      for (std::string line; std::getline(in, line);)
        if (line.rfind(analysis_prefix, 0) == 0) k += line + "\n";
    }
    return k;
  };
}

std::vector<Stage> stages(const Experiment& e, const RunFolder& folder) {
  std::vector<Stage> s;
  for (char label : {'A', 'B'}) {
    // The key leaves out checkpoint_every_saves (sampling_input): it changes no data.
    Stage st{std::string("sample_") + label, [label](const std::string& r) { return sampling_input(r, label); }, {}, {}};
    const auto& d = e.system(label).datasets;
    const std::pair<const char*, std::int64_t> sets[] = {{"train", d.train}, {"validation", d.validation}, {"evaluation", d.evaluation}};
    for (const auto& [set, n] : sets)
      if (n > 0) st.outputs.push_back(folder.data_set(label, set));
    s.push_back(st);
  }
  const std::vector<std::string> model = {"", "box", "systems", "preprocess", "flow", "training"};
  std::vector<std::string> all = model;
  all.push_back("analysis");
  s.push_back({"train", sections(model), {folder.model_flow()}, {"sample_A", "sample_B"}});
  s.push_back({"map", sections(model, "max_configurations"), {folder.mapped("A_to_B"), folder.mapped("B_to_A")},
               {"sample_A", "sample_B", "train"}});
  s.push_back({"analyze", sections(all), {folder.analysis()}, {"sample_A", "sample_B", "map"}});
  return s;
}

nlohmann::json read_records(const std::string& path) {
  if (!std::filesystem::exists(path)) return nlohmann::json::object();
  try {
    nlohmann::json j = nlohmann::json::parse(read_text(path));
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  return nlohmann::json::object();  // unreadable or not an object: every stage runs again
}

// Whether an output exists and was made from the same (relevant) input: the stored
// @boltzmap_input of an HDF5 output must give the same key as the current input.
bool output_current(const std::string& path, const Stage& st, const std::string& key) {
  if (!std::filesystem::exists(path)) return false;
  try {
    return st.key(read_root_attribute(path, "boltzmap_input")) == key;
  } catch (const Error&) {
    return false;  // unreadable: make it again
  }
}

// Whether each stage is up to date (rank 0 only: reads the run folder). A stage runs when its
// record or an output is stale, or when a stage it reads runs.
std::vector<std::pair<Stage, bool>> plan(const Experiment& e, const RunFolder& folder) {
  const nlohmann::json rec = read_records(folder.stages());
  std::set<std::string> runs;
  std::vector<std::pair<Stage, bool>> out;
  for (const Stage& st : stages(e, folder)) {
    const std::string key = st.key(e.resolved_toml);
    bool current = rec.value(st.name, std::string()) == fnv1a(key);
    for (const auto& o : st.outputs) current = current && output_current(o, st, key);
    for (const auto& a : st.after) current = current && !runs.count(a);
    if (!current) runs.insert(st.name);
    out.emplace_back(st, current);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, bool>> run_stages_up_to_date(const Experiment& e) {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& [st, current] : plan(e, RunFolder{e.output_dir})) out.emplace_back(st.name, current);
  return out;
}

std::string default_input() {
  if (std::filesystem::exists("inputs/demo.toml")) return "inputs/demo.toml";
  return program_file("inputs/demo.toml");
}

int cmd_run(const RunArgs& args, const Comm& comm, const Accelerators& acc) {
  const std::string input = args.input.empty() ? default_input() : args.input;
  if (args.input.empty() && comm.root())
    spdlog::info("no FILE given: running the demo, {} (sample, train, map, analyze and the figures; a few minutes on "
                 "2 cores); `boltzmap run FILE` runs your own input",
                 input);
  const Experiment e = load_job_input(input, args.sets, comm);
  // Before the first stage: a backend some stage cannot run on (each stage resolves its own again).
  resolve_backends(e.backend, {PipelineStage::sample, PipelineStage::train, PipelineStage::map, PipelineStage::analyze},
                   acc, e.source_file);
  job_roles(e, comm, args.sampler_ranks_given);  // an impossible role split, likewise
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const std::string records_path = folder.stages();
  const RunLock lock(run, comm, "run");  // the stages take it again (re-entrant)
  // Everything that can be known to fail is refused before the first stage spends its time.
  for (char label : {'A', 'B'})
    require_memory(fmt::format("sampling system {}", label), fmt::format("systems.{}.sampler.walkers = {}", label, e.system(label).sampler.walkers),
                   sampling_bytes_per_rank(e, label, comm.size()), Holders::every_rank, comm);
  require_memory("training (every trainer rank holds the data sets)", "systems.<X>.datasets", training_bytes(e), Holders::every_rank, comm);
  require_memory("the analysis (every rank holds a chunk of rows and the sums of every replicate)", "analysis.bootstrap_replicates", analysis_bytes(e), Holders::every_rank, comm);
  if (comm.root()) ensure_directory(run);
  // Decided once, before the first stage: a stage that runs makes its readers run (plan()).
  std::vector<std::pair<Stage, bool>> decided;
  std::string decisions;
  if (comm.root()) {
    decided = plan(e, folder);
    for (const auto& d : decided) decisions += d.second ? 's' : 'r';
  }
  comm.broadcast(decisions);
  if (!comm.root()) {
    const std::vector<Stage> all = stages(e, folder);
    for (std::size_t k = 0; k < all.size(); ++k) decided.emplace_back(all[k], decisions[k] == 's');
  }
  for (const auto& [st, current] : decided) {
    const std::string hash = fnv1a(st.key(e.resolved_toml));
    const std::string decision = current ? "skip" : "run";
    if (comm.root() && !current) {  // forget this stage until it completes again
      nlohmann::json rec = read_records(records_path);
      rec.erase(st.name);
      write_text_atomic(records_path, rec.dump(2) + "\n");
    }
    if (decision == "skip") {
      if (comm.root()) spdlog::info("run: {} is up to date (outputs present, input unchanged), skipped", st.name);
      continue;
    }
    if (comm.root()) spdlog::info("run: stage {}", st.name);
    int code = 0;
    if (st.name == "sample_A" || st.name == "sample_B") {
      // Likewise a sampling checkpoint of another input: moved aside (kept), and sampling starts afresh.
      const char label = st.name[7];
      const std::string ckpt = folder.sample_checkpoint(label);
      if (comm.root() && std::filesystem::exists(ckpt) && !sample_checkpoint_fits(ckpt, e, label)) {
        const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        const std::string aside = folder.set_aside_sample_state(label, stamp);
        std::filesystem::rename(folder.sample_state(label), aside);
        spdlog::warn("run: {} was written for a different input; moved to {} and sampling {} starts afresh", ckpt, aside, label);
      }
      comm.barrier();
      code = cmd_sample(SampleArgs{input, st.name.substr(7), args.sets, args.progress}, comm, acc);
      if (code == 0 && sample_was_interrupted()) {
        if (comm.root()) spdlog::warn("run: sampling {} was interrupted; run the same command again to resume", label);
        return code;
      }
      if (code == 0 && sample_stop_signal() != 0) {
        if (comm.root()) {
          nlohmann::json rec = read_records(records_path);
          rec[st.name] = hash;
          write_text_atomic(records_path, rec.dump(2) + "\n");
          spdlog::warn("run: a signal came as sampling {} finished; stopping after it, run the same command again to go on", label);
        }
        return code;
      }
    } else if (st.name == "train") {
      // A checkpoint of an earlier, different input would block training (boltzmap train refuses
      // it): `run` follows the input, so it moves that checkpoint aside (kept, not deleted).
      const std::string ckpt = folder.checkpoint();
      if (comm.root() && std::filesystem::exists(ckpt) && !checkpoint_fits_input(ckpt, e)) {
        const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        const std::string aside = folder.set_aside_checkpoint(stamp);
        std::filesystem::rename(ckpt, aside);
        spdlog::warn("run: {} was written for a different input; moved to {} and training starts afresh", ckpt, aside);
      }
      code = cmd_train(TrainArgs{input, args.sets, args.progress, args.sampler_ranks_given}, comm, acc);
      std::string stopped = train_was_interrupted() ? "1" : "0";
      comm.broadcast(stopped);
      if (stopped == "1") {
        if (comm.root()) spdlog::warn("run: training was interrupted; run the same command again to resume");
        return code;
      }
    } else if (st.name == "map") {
      code = cmd_map(MapArgs{input, args.sets, args.progress}, comm, acc);
    } else {
      code = cmd_analyze(AnalyzeArgs{input, args.sets, args.no_plot}, comm, acc);
    }
    if (code != 0) return code;
    if (comm.root()) {
      nlohmann::json rec = read_records(records_path);
      rec[st.name] = hash;
      write_text_atomic(records_path, rec.dump(2) + "\n");
    }
  }
  if (comm.root()) {
    const nlohmann::json summary = read_records(folder.summary());
    if (summary.contains("analyze") && summary["analyze"].contains("identity")) spdlog::info("{}", results_table(summary["analyze"]));
    const std::string fig = folder.figure(e.name);
    spdlog::info("run: done; results in {} and {}{}", folder.summary(), folder.analysis(),
                 std::filesystem::exists(fig) ? "; figure " + fig : "");
  }
  return 0;
}

}  // namespace boltzmap
