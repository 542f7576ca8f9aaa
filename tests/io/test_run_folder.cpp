// The run folder's layout (src/io/run_folder.hpp): the names are DESIGN.md's contract ("Run folder
// out/<name>/: input.toml, log.txt, data/{A,B}_{train,validation,evaluation}.h5, model/flow.h5 and
// model/checkpoints/, mapped/{A_to_B,B_to_A}.h5, analysis.h5, figures/*.png, summary.json") and
// README's table; a rename breaks users' scripts, so each is spelled out here once more.
#include <gtest/gtest.h>

#include "io/run_folder.hpp"

namespace boltzmap {
namespace {

TEST(RunFolder, EveryPathHasItsContractName) {
  const RunFolder r{"out/exp"};
  EXPECT_EQ(r.input(), "out/exp/input.toml");
  EXPECT_EQ(r.log(), "out/exp/log.txt");
  EXPECT_EQ(r.summary(), "out/exp/summary.json");
  EXPECT_EQ(r.stages(), "out/exp/stages.json");
  EXPECT_EQ(r.lock(), "out/exp/.boltzmap.lock");
  EXPECT_EQ(r.data(), "out/exp/data");
  EXPECT_EQ(r.data_set('A', "train"), "out/exp/data/A_train.h5");
  EXPECT_EQ(r.data_set('B', "validation"), "out/exp/data/B_validation.h5");
  EXPECT_EQ(r.data_set('B', "evaluation"), "out/exp/data/B_evaluation.h5");
  EXPECT_EQ(r.model(), "out/exp/model");
  EXPECT_EQ(r.preprocessor(), "out/exp/model/preprocess.h5");
  EXPECT_EQ(r.model_flow(), "out/exp/model/flow.h5");
  EXPECT_EQ(r.checkpoints(), "out/exp/model/checkpoints");
  EXPECT_EQ(r.checkpoint(), "out/exp/model/checkpoints/checkpoint.h5");
  EXPECT_EQ(r.failed_checkpoint(), "out/exp/model/checkpoints/checkpoint_failed.h5");
  EXPECT_EQ(r.set_aside_checkpoint(1700000000), "out/exp/model/checkpoints/checkpoint.other-input.1700000000.h5");
  EXPECT_EQ(r.train_log(), "out/exp/train_log.csv");
  EXPECT_EQ(r.preprocessed(), "out/exp/preprocessed");
  EXPECT_EQ(r.preprocessed('A', "evaluation"), "out/exp/preprocessed/A_evaluation.h5");
  EXPECT_EQ(r.mapped(), "out/exp/mapped");
  EXPECT_EQ(r.mapped("A_to_B"), "out/exp/mapped/A_to_B.h5");
  EXPECT_EQ(r.mapped("B_to_A"), "out/exp/mapped/B_to_A.h5");
  EXPECT_EQ(r.analysis(), "out/exp/analysis.h5");
  EXPECT_EQ(r.figures(), "out/exp/figures");
  EXPECT_EQ(r.figure("experiment_I"), "out/exp/figures/experiment_I.png");
}

TEST(RunFolder, AnAbsoluteOrNestedRootIsKeptAsGiven) {
  EXPECT_EQ(RunFolder{"/scratch/u/runs/x"}.model_flow(), "/scratch/u/runs/x/model/flow.h5");
  EXPECT_EQ(RunFolder{"a/b"}.data_set('A', "train"), "a/b/data/A_train.h5");
}

}  // namespace
}  // namespace boltzmap
