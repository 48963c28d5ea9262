// The conformance runner: reads a fixture directory (manifest.json +
// cases.safetensors + model files, format in the fixtures' README), runs every
// case through the engine and compares against the manifest's tolerances.
// Shared by the addon (`npm run conformance`) and the native driver (GPU
// machines without Node), so both judge cases identically.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/tensor.h"

namespace sd {

struct OutputCheck {
  std::string output;
  double max_abs = 0;
  double rel_l2 = 0;
  double mismatch_fraction = 0;  // U8 pictures: share of values that differ at all
  bool passed = false;
  double ratio = 0;  // error over allowed error (the largest of the bounds that apply); < 1 passes
  std::string note;  // which tolerance or alternate applied, or why it failed
};

struct CaseResult {
  enum class Status { Passed, Failed, NotImplemented, Error };
  std::string name;
  std::string kind;
  Status status = Status::Failed;
  std::string message;
  std::vector<OutputCheck> outputs;
  double seconds = 0;
};

const char* status_name(CaseResult::Status s);

struct ConformanceOptions {
  // Which checkpoint of the fixture set to load the model from: "ckpt" or
  // "safetensors" (files named in manifest.files), or a path.
  std::string checkpoint = "safetensors";
  std::string backend = "cpu";   // "cpu" or "cuda"
  std::string precision = "f32"; // weight storage: f32, f16, bf16
  std::string filter;            // substring of case names or kinds; empty = all
  bool include_optional = true;  // tokenizer_ftfy etc.
  bool check_debug = false;      // also compare debug trajectories
  bool half_activations = true;  // CUDA: fp16 activations (false = fp32, judged by the manifest's tolerances)
  // When > 0, every non-exact output is judged by rel_l2 <= this instead of the
  // manifest's fp32 tolerances (fp16 engines: the README suggests ~1e-2).
  double rel_tolerance_override = 0;
};

class FixtureDir {
 public:
  explicit FixtureDir(std::string dir);
  ~FixtureDir();
  const std::string& dir() const { return dir_; }
  const Json& manifest() const { return manifest_; }
  // A tensor of cases.safetensors as a host tensor in its stored dtype.
  Tensor tensor(const std::string& key) const;
  bool has_tensor(const std::string& key) const;
  // manifest.files[role] resolved against the directory.
  std::string file(const std::string& role) const;

 private:
  std::string dir_;
  Json manifest_;
  struct Cases;
  std::unique_ptr<Cases> cases_;
};

class Resources;  // lazily built engine objects (tokenizer, model) shared by cases

class CaseContext {
 public:
  CaseContext(const Json& spec, const FixtureDir& fixtures, Resources& resources, const ConformanceOptions& options,
              CaseResult& result);

  const Json& spec() const { return spec_; }
  const std::string& name() const;
  const FixtureDir& fixtures() const { return fixtures_; }
  Resources& resources() { return resources_; }
  const ConformanceOptions& options() const { return options_; }

  Tensor input(const std::string& role) const;
  bool has_input(const std::string& role) const;
  const Json& param(const std::string& key) const;
  const Json* find_param(const std::string& key) const;
  bool has_expected(const std::string& output) const;
  Tensor expected(const std::string& output) const;

  // Compares `actual` with expected[output] (and the accepted alternates) under
  // the case's tolerance for that output; records the result.
  void check(const std::string& output, const Tensor& actual);
  // Same for a debug tensor (trajectories), under debug_tolerance.
  void check_debug(const std::string& name, const Tensor& actual);
  // For tolerance entries "params.<name>": {"abs": a}.
  void check_param(const std::string& name, double actual);

 private:
  void record(OutputCheck check);

  const Json& spec_;
  const FixtureDir& fixtures_;
  Resources& resources_;
  const ConformanceOptions& options_;
  CaseResult& result_;
};

// Compares two tensors under one tolerance object of the manifest.
OutputCheck compare_tensors(const std::string& output, const Tensor& actual, const Tensor& expected,
                            const Json& tolerance);

using CaseRunner = std::function<void(CaseContext&)>;
// The runner for a case kind, or nullptr when the engine does not support it yet.
const CaseRunner* find_case_runner(const std::string& kind);

// Runs every case (matching options.filter); on_result is called after each.
std::vector<CaseResult> run_conformance(const std::string& dir, const ConformanceOptions& options,
                                        const std::function<void(const CaseResult&)>& on_result = {});

// One line per case, as printed by both front ends.
std::string format_result_line(const CaseResult& r);

}  // namespace sd
