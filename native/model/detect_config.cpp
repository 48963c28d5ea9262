#include <fstream>
#include <sstream>

#include "io/checkpoint.h"
#include "model/config.h"

namespace sd {

namespace {
std::string sidecar_config_path(const std::string& checkpoint_path) {
  const size_t slash = checkpoint_path.find_last_of("/\\");
  return (slash == std::string::npos ? std::string() : checkpoint_path.substr(0, slash + 1)) + "config.json";
}
}  // namespace

ModelConfig detect_model_config(const Checkpoint& ckpt) {
  const std::string meta = ckpt.metadata("sd_config");
  if (!meta.empty()) return ModelConfig::from_json(Json::parse(meta));
  std::ifstream sidecar(sidecar_config_path(ckpt.path()));
  if (sidecar.good()) {
    std::ostringstream text;
    text << sidecar.rdbuf();
    return ModelConfig::from_json(Json::parse(text.str()));
  }
  SD_CHECK(ckpt.find(std::string(kUNetPrefix) + "input_blocks.0.0.weight") != nullptr, ckpt.path(),
           " does not look like a Stable Diffusion 1.x checkpoint (no model.diffusion_model.* weights)");
  return ModelConfig::sd15();
}

}  // namespace sd
