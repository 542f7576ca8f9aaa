// The boltzmap executable: parses the command line (CLI11) and calls the library. Library code
// throws boltzmap::Error; this is the one place that turns it into a message and an exit code,
// calling MPI_Abort when several ranks run so none hangs in a collective (STYLE 9).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <new>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "core/backend.hpp"
#include "core/check.hpp"
#include "core/debug_sync.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace {

const char* exit_codes =
    "Exit codes: 0 success, 1 internal error, 2 bad command line, 3 bad input file or --set,\n"
    "            4 file could not be read/written, 5 numerical failure (NaN/inf), 6 backend unavailable.";

std::string version_line() {
  return fmt::format("boltzmap {} (git {}, CUDA {})", boltzmap::build::version, boltzmap::build::git_hash,
                     boltzmap::build::cuda ? "compiled in" : "not compiled");
}

// The first argument that is neither an option nor an option's value (the would-be subcommand).
std::string first_word(int argc, char** argv) {
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (a == "--threads") {
      ++k;
      continue;
    }
    if (!a.empty() && a[0] != '-') return a;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace boltzmap;
  MpiSession mpi(&argc, &argv);
  const Comm world;
  set_process_command_line(argc, argv);  // named in the run folder's lock
  int code = 0;
  bool verbose = false;
  bool reported_elsewhere = false;  // this rank's error is one another rank reports (ReportedError)
  try {
    // Before anything else: a rank started with other arguments would make every later
    // collective depend on a per-rank setting (a mixed file, or a hang).
    check_same_command_line(argc, argv, world);
    CLI::App app{"boltzmap: learned maps between the Boltzmann distributions of two liquids (real-NVP normalizing "
                 "flows), with MCMC reference data, reweighting and free energies.\n"
                 "Runs on its own (one rank plays every role) or under mpirun/srun.",
                 "boltzmap"};
    app.footer(std::string("Examples:\n"
                           "  boltzmap run                       (the demo: sample, train, map, analyze, plot)\n"
                           "  boltzmap run inputs/experiment_I.toml\n"
                           "  boltzmap sample inputs/demo.toml\n"
                           "  boltzmap sample inputs/experiment_I.toml --system B --set systems.B.sampler.walkers=5000\n"
                           "  mpirun -n 4 boltzmap sample inputs/experiment_II.toml\n"
                           "  boltzmap preprocess inputs/demo.toml\n"
                           "  boltzmap train inputs/demo.toml\n"
                           "  boltzmap map inputs/demo.toml && boltzmap analyze inputs/demo.toml\n"
                           "  boltzmap info out/demo/data/B_train.h5\n"
                           "  boltzmap check inputs/experiment_I.toml --ranks 64   (time, memory, disk before a job)\n"
                           "  boltzmap export out/demo/mapped/A_to_B.h5 -o A_to_B.gsd\n"
                           "  boltzmap import inputs/demo.toml A.gsd --system A --set-name train\n"
                           "Input keys: README.md (\"Input reference\"). Threads: OMP_NUM_THREADS or --threads.\n") +
               exit_codes);
    app.set_version_flag("--version", version_line());
    app.require_subcommand(1);
    app.fallthrough();  // --threads, --verbose and --debug-sync also after the subcommand
    int threads = 0;
    app.add_option("--threads", threads, "OpenMP threads per rank (default: OMP_NUM_THREADS or all cores)")
        ->check(CLI::Range(1, 4096));
    app.add_flag("-v,--verbose", verbose, "more log output");
    bool debug_sync_flag = false;
    app.add_flag("--debug-sync", debug_sync_flag,
                 "CUDA: synchronise and check after every kernel launch (slow; names the kernel that faulted)");

    // What every subcommand's --help repeats: the options of boltzmap itself, and the exit codes.
    const std::string sub_footer =
        std::string("Global options (before or after the subcommand): --threads N (OpenMP threads per rank), "
                    "-v/--verbose, --debug-sync (CUDA: check after every kernel).\n") + exit_codes;
    // A subcommand that reads an experiment input: FILE, --set overrides, -o, the footer.
    // `example` is a --set that matters to this subcommand.
    auto input_subcommand = [&](const char* name, const std::string& what, std::string& input,
                                std::vector<std::string>& sets, const char* file_help, const char* example,
                                bool required = true) {
      CLI::App* sub = app.add_subcommand(name, what);
      CLI::Option* file = sub->add_option("FILE", input, file_help);
      if (required) file->required();
      sub->add_option("--set", sets, fmt::format("override an input key: --set {} (repeatable)", example))
          ->take_all()
          ->allow_extra_args(false);
      sub->add_option_function<std::string>(
          "-o,--output-dir", [&sets](const std::string& dir) { sets.push_back("output_dir=" + dir); },
          "the run folder (the input's output_dir; default out/<name>); the same as --set output_dir=DIR");
      sub->footer(sub_footer);
      return sub;
    };

    SampleArgs sample;
    auto* s = input_subcommand("sample", "Generate the MCMC data sets of systems A and B (out/<name>/data/*.h5)",
                               sample.input, sample.sets, "experiment input (TOML)", "systems.A.sampler.walkers=512");
    s->add_option("--system", sample.system, "sample only this system")->check(CLI::IsMember({"A", "B"}));
    bool no_progress = false;
    s->add_flag("--no-progress", no_progress, "no progress bar or progress lines");

    PreprocessArgs prep;
    auto* p = input_subcommand("preprocess",
                               "Fit the invertible preprocessing on A's and B's training sets, save it "
                               "(model/preprocess.h5) and write every set through it (preprocessed/*.h5)",
                               prep.input, prep.sets, "experiment input (TOML); its data sets must have been sampled",
                               "preprocess.whiten=false");
    bool prep_quiet = false;
    p->add_flag("--no-progress", prep_quiet, "accepted for symmetry with the other stages (preprocess prints no progress bar)");

    TrainArgs train;
    auto* t = input_subcommand("train",
                               "Train the flow on the sampled data ([flow], [training]); resumes from "
                               "model/checkpoints/checkpoint.h5; writes model/flow.h5 and train_log.csv",
                               train.input, train.sets, "experiment input (TOML); its data sets must have been sampled",
                               "training.batch_size=1024");
    bool train_quiet = false;
    t->add_flag("--no-progress", train_quiet, "no progress bar; a log line per epoch");
    // --sampler-ranks k is [parallel] sampler_ranks = k (README "Input reference"), given here.
    int sampler_ranks = -1;
    const char* sampler_ranks_help = "sampler ranks: the last k ranks, the others train ([parallel] sampler_ranks; "
                                     "validated, not used yet in this version)";
    t->add_option("--sampler-ranks", sampler_ranks, sampler_ranks_help)->check(CLI::NonNegativeNumber);

    MapArgs map;
    auto* mp = input_subcommand("map",
                                "Map the evaluation sets through the trained flow (A→B with F, B→A with F⁻¹): "
                                "mapped/{A_to_B,B_to_A}.h5 with energies, log-Jacobians, log-weights and the "
                                "canonical-domain flag",
                                map.input, map.sets, "experiment input (TOML); needs model/flow.h5 and the evaluation sets",
                                "analysis.max_configurations=100000");
    bool map_quiet = false;
    mp->add_flag("--no-progress", map_quiet, "no progress bar or progress lines");

    AnalyzeArgs analyze;
    auto* an = input_subcommand("analyze",
                                "Reweighted observables, ESS and free energies (each direction, BAR) with bootstrap "
                                "errors, for the flow and the identity map: analysis.h5, summary.json, figures/*.png. "
                                "Under mpirun every rank reads and accumulates its rows, analysis.chunk_configurations "
                                "at a time; there the default bootstrap is Poisson (multinomial needs one rank)",
                                analyze.input, analyze.sets, "experiment input (TOML); needs the mapped files of `boltzmap map`",
                                "analysis.bootstrap_replicates=1000");
    an->add_flag("--no-plot", analyze.no_plot, "do not call tools/plot (the same as --set analysis.plot=false)");
    bool analyze_quiet = false;
    an->add_flag("--no-progress", analyze_quiet, "accepted for symmetry with the other stages (analyze prints no progress bar)");

    RunArgs runa;
    auto* rn = input_subcommand("run",
                                "The whole pipeline: sample, train, map, analyze, plot — skipping stages whose outputs "
                                "exist for the same input (out/<name>/stages.json), so a re-run resumes where it stopped",
                                runa.input, runa.sets, "experiment input (TOML); default inputs/demo.toml",
                                "seed=3", false);
    bool run_quiet = false;
    rn->add_flag("--no-progress", run_quiet, "no progress bars; periodic log lines");
    rn->add_flag("--no-plot", runa.no_plot, "do not call tools/plot after the analysis");
    rn->add_option("--sampler-ranks", sampler_ranks, sampler_ranks_help)->check(CLI::NonNegativeNumber);

    CheckArgs check;
    auto* ck = input_subcommand("check",
                                "Validate an input and say what each stage will do, with estimates of time, memory "
                                "and disk, before anything runs (writes nothing)",
                                check.input, check.sets, "experiment input (TOML)", "systems.A.datasets.evaluation=5000000");
    ck->add_option("--ranks", check.ranks, "plan for a job of R ranks (default: this job's)")->check(CLI::PositiveNumber);
    ck->add_option("--sampler-ranks", sampler_ranks, sampler_ranks_help)->check(CLI::NonNegativeNumber);
    bool check_no_input = false;
    ck->add_flag("--no-input", check_no_input, "do not print the resolved input");

    InfoArgs info;
    auto* i = app.add_subcommand("info", "Describe an HDF5 file written by boltzmap (groups, datasets, attributes)");
    i->add_option("FILE", info.file, "an .h5 file")->required();
    i->add_flag("--input", info.input, "print the resolved input stored in the file and nothing else");
    i->footer(sub_footer);

    ExportArgs exp;
    auto* ex = app.add_subcommand("export",
                                  "Write a configuration file (data/*.h5, mapped/*.h5) for visualisers and other codes: GSD "
                                  "(HOOMD-blue, OVITO), extended XYZ (ASE, OVITO), a LAMMPS data file of one frame or a LAMMPS "
                                  "dump, with the box and every observable (energies, log-weights) as per-frame data");
    ex->add_option("FILE", exp.file, "an H5MD configuration file written by boltzmap")->required();
    ex->add_option("-o,--output", exp.output, "the file to write (.gsd, .xyz/.extxyz, .data/.lmp, .dump/.lammpstrj)")->required();
    ex->add_option("--format", exp.format, "gsd | xyz | lammps-data | lammps-dump (default: from the output's suffix)")
        ->check(CLI::IsMember({"gsd", "xyz", "lammps-data", "lammps-dump"}));
    ex->add_option("--frames", exp.frames, "FIRST, FIRST: or FIRST:COUNT (frames from 0; default all, lammps-data: 0)");
    ex->add_option("--frame", exp.frame, "one frame K (the same as --frames K:1)")->check(CLI::NonNegativeNumber);
    ex->footer("Conventions (README \"Export and import\"): reduced LJ units; GSD positions in [-L/2, L/2) (HOOMD), the "
               "others in [0, L); 2D: z = 0, GSD Lz = 0, XYZ Lz = 1 with pbc=\"T T F\", LAMMPS -0.5 0.5 zlo zhi.\n" +
               sub_footer);

    ImportArgs imp;
    auto* im = input_subcommand("import",
                                "Make another code's configurations (GSD, extended XYZ, LAMMPS dump or data file) a data "
                                "set of the run folder (data/<A|B>_<set>.h5): N, dimension and box checked against the "
                                "system, positions wrapped into [0, L), energies recomputed with boltzmap's potential",
                                imp.input, imp.sets, "experiment input (TOML)", "systems.A.epsilon=1.0");
    im->add_option("TRAJECTORY", imp.file, "the file to import (.gsd, .xyz/.extxyz, .dump/.lammpstrj, .data/.lmp)")->required();
    im->add_option("--system", imp.system, "the system the configurations belong to")->required()->check(CLI::IsMember({"A", "B"}));
    im->add_option("--set-name", imp.set_name, "the data set they become")
        ->required()
        ->check(CLI::IsMember({"train", "validation", "evaluation"}));
    im->add_option("--format", imp.format, "gsd | xyz | lammps-dump | lammps-data (default: from the file's suffix)")
        ->check(CLI::IsMember({"gsd", "xyz", "lammps-data", "lammps-dump"}));

    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {
      if (world.root()) app.exit(e);
      return 0;
    } catch (const CLI::ParseError& e) {
      // "boltzmap frob" would only say "A subcommand is required": name the word we did not know.
      const std::string unknown = app.get_subcommands().empty() ? first_word(argc, argv) : "";
      if (!unknown.empty()) {
        if (world.root()) {
          std::string names;
          for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
          std::fprintf(stderr, "unknown subcommand '%s'; choose one of: %s (see boltzmap --help)\n", unknown.c_str(),
                       names.c_str());
        }
      } else if (world.root()) {
        app.exit(e);
      }
      return static_cast<int>(ExitCode::usage);
    }
    log_init(world.rank(), world.size(), verbose);
    set_debug_sync(debug_sync_flag);
    if (threads > 0) omp_set_num_threads(threads);
    sample.progress = !no_progress;
    // What this process can run on, found once (a CUDA device query) for every stage of the command.
    // Each rank then takes its node-local rank's GPU (rank → GPU: core/backend.hpp assign_device).
    Accelerators acc = i->parsed() || ex->parsed() || im->parsed() ? Accelerators{} : probe_accelerators();
    if (acc.cuda_usable()) {
      const Comm node = world.node_local();
      assign_device(acc, node.rank());
      if (node.size() > static_cast<int>(acc.devices.size()) && node.rank() == 0)
        spdlog::info("{} ranks on {} share its {} GPU(s) round-robin (rank → GPU: node-local rank mod {})",
                     node.size(), host_name(), acc.devices.size(), acc.devices.size());
    }

    if (s->parsed()) code = cmd_sample(sample, world, acc);
    if (p->parsed()) code = cmd_preprocess(prep, world, acc);
    if (sampler_ranks >= 0) {
      const std::string k = "parallel.sampler_ranks=" + std::to_string(sampler_ranks);
      train.sets.push_back(k);
      runa.sets.push_back(k);
      check.sets.push_back(k);
      train.sampler_ranks_given = runa.sampler_ranks_given = check.sampler_ranks_given = true;
    }
    if (ck->parsed()) {
      check.show_input = !check_no_input;
      code = cmd_check(check, world, acc);
    }
    if (t->parsed()) {
      train.progress = !train_quiet;
      code = cmd_train(train, world, acc);
    }
    if (mp->parsed()) {
      map.progress = !map_quiet;
      code = cmd_map(map, world, acc);
    }
    if (an->parsed()) code = cmd_analyze(analyze, world, acc);
    if (rn->parsed()) {
      runa.progress = !run_quiet;
      code = cmd_run(runa, world, acc);
    }
    if (i->parsed()) code = cmd_info(info, world);
    if (ex->parsed()) code = cmd_export(exp, world);
    if (im->parsed()) code = cmd_import(imp, world);
  } catch (const ReportedError& e) {
    code = static_cast<int>(e.code());  // the reporting rank prints it and aborts the job
    reported_elsewhere = true;
  } catch (const Error& e) {
    // The same error usually happens on every rank (they read the same files). Rank 0 reports at
    // once and aborts the job; the others wait a moment first, so that only a rank that failed
    // alone gets to print its message (prefixed with its rank).
    if (world.size() > 1 && !world.root()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (!spdlog::default_logger()) std::fprintf(stderr, "error: %s\n", e.what());
    else spdlog::error("{}", e.what());
    code = static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    spdlog::error("out of memory ({}): the run needs more memory than this process could get; use fewer walkers or "
                  "configurations per rank, or more ranks/nodes", process_identity());
    code = static_cast<int>(ExitCode::failure);
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    code = static_cast<int>(ExitCode::failure);
  }
  // A rank whose error another rank reports leaves that rank the time to print it (the reporter's own
  // abort ends the job first); aborting at once could kill the reporter before its message is out.
  // That holds for rank 0 too: the reporter of all_or_none is the lowest rank that failed, which
  // need not be rank 0 (a file that only rank 2 sees corrupt). The wait ends early when the
  // reporter aborts (it prints within 0.5 s: above); it only runs out if the reporter is gone.
  if (code != 0 && world.size() > 1 && reported_elsewhere) std::this_thread::sleep_for(std::chrono::seconds(5));
  if (code != 0 && world.size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
  if (hdf5_file_unclosable()) {
    // A file HDF5 could not close (a full disk): its cleanup at MPI_Finalize would crash on the
    // dangling id, so end here, the message out, with the error's code (io/h5util.hpp).
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}
