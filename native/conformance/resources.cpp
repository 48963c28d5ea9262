#include "conformance/resources.h"

#include "model/stable_diffusion.h"
#include "text/clip_tokenizer.h"

namespace sd {

Resources::Resources(const FixtureDir& fixtures, const ConformanceOptions& options)
    : fixtures_(fixtures), options_(options) {}

Resources::~Resources() = default;

std::string Resources::checkpoint_path() const {
  if (options_.checkpoint == "ckpt") return fixtures_.file("checkpoint_ckpt");
  if (options_.checkpoint == "safetensors") return fixtures_.file("checkpoint_safetensors");
  return options_.checkpoint;
}

StableDiffusion& Resources::model() {
  if (!model_) {
    EngineOptions engine;
    engine.backend = options_.backend;
    engine.weight_dtype = parse_weight_dtype(options_.precision);
    engine.half_activations = options_.half_activations;
    // The manifest carries the model's config (= config.json): use it, so the
    // runner works on fixture sets whose checkpoints lack metadata.
    const Json* config_json = fixtures_.manifest().find("config");
    if (config_json && config_json->is_object()) {
      const ModelConfig config = ModelConfig::from_json(*config_json);
      model_ = std::make_unique<StableDiffusion>(checkpoint_path(), engine, &config);
    } else {
      model_ = std::make_unique<StableDiffusion>(checkpoint_path(), engine);
    }
  }
  return *model_;
}

const ClipTokenizer& Resources::tokenizer() {
  if (!tokenizer_) tokenizer_ = ClipTokenizer::load(fixtures_.file("vocab"));
  return *tokenizer_;
}

}  // namespace sd
