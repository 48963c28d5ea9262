#include "conformance/resources.h"

namespace sd {

Resources::Resources(const FixtureDir& fixtures, const ConformanceOptions& options)
    : fixtures_(fixtures), options_(options) {}

Resources::~Resources() = default;

std::string Resources::checkpoint_path() const {
  if (options_.checkpoint == "ckpt") return fixtures_.file("checkpoint_ckpt");
  if (options_.checkpoint == "safetensors") return fixtures_.file("checkpoint_safetensors");
  return options_.checkpoint;
}

}  // namespace sd
