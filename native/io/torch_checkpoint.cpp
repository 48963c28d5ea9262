// PyTorch .ckpt reader: zip container + restricted pickle. Implemented in the
// "checkpoint loading" work; until then .ckpt files are refused clearly.
#include <memory>
#include <string>

#include "io/checkpoint.h"

namespace sd {

std::unique_ptr<Checkpoint> open_pytorch_checkpoint(const std::string& path) {
  fail(path, ": PyTorch .ckpt files are not supported by this build yet; use a .safetensors checkpoint");
}

}  // namespace sd
