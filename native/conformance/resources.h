// Engine objects that several conformance cases share, built on first use:
// loading the model once per fixture directory instead of once per case.
#pragma once

#include <memory>
#include <string>

#include "conformance/conformance.h"

namespace sd {

class StableDiffusion;
class ClipTokenizer;

class Resources {
 public:
  Resources(const FixtureDir& fixtures, const ConformanceOptions& options);
  ~Resources();

  const FixtureDir& fixtures() const { return fixtures_; }
  const ConformanceOptions& options() const { return options_; }
  // The checkpoint path the options select (manifest files.checkpoint_* or a path).
  std::string checkpoint_path() const;
  // The model of the fixture set, loaded once with the options' backend and precision.
  StableDiffusion& model();
  // The CLIP tokenizer on the fixture set's vocabulary (manifest files.vocab),
  // loaded on first use.
  const ClipTokenizer& tokenizer();

 private:
  const FixtureDir& fixtures_;
  const ConformanceOptions& options_;
  std::unique_ptr<StableDiffusion> model_;
  std::unique_ptr<ClipTokenizer> tokenizer_;
};

}  // namespace sd
