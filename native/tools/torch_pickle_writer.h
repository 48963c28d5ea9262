// Writes the data.pkl that torch.save produces for
// {"global_step": N, "state_dict": OrderedDict(name -> tensor)}: pickle
// protocol 2, one storage per tensor, named by its index (sd-driver test
// checkpoints only; not part of the engine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sd {

struct PickledTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::string storage_key;  // the entry data/<key>
};

std::string torch_state_dict_pickle(const std::vector<PickledTensor>& tensors, int64_t global_step);

// The torch storage class of a dtype ("FloatStorage", ...).
const char* torch_storage_name(DType dtype);

}  // namespace sd
