// A restricted reader for the pickles inside PyTorch checkpoints.
//
// Python's pickle is a small stack machine whose GLOBAL/REDUCE opcodes call
// any importable function, which is how a malicious .ckpt runs code. This
// reader executes nothing: it builds a tree of plain values and records calls
// as data ("_rebuild_tensor_v2 applied to these arguments") for the caller to
// interpret. A global outside the allow-list below is refused on sight, with
// an error naming it.
//
// The allow-list (what real SD checkpoints written by torch.save contain):
//   interpreted  collections.OrderedDict, torch._utils._rebuild_tensor_v2,
//                torch._utils._rebuild_parameter, torch.{Float,Double,Half,
//                BFloat16,Long,Int,Short,Char,Byte,Bool}Storage
//   inert data   pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint,
//                numpy.core.multiarray.scalar / _reconstruct, numpy.dtype,
//                numpy.ndarray, _codecs.encode, builtins.set — sd-v1-x training checkpoints
//                store a Lightning callback state holding numpy scalars. They
//                are kept as opaque records that are never interpreted, so
//                they cannot do anything; tensors are only looked for in the
//                state dict.
// Every other global (os.system, builtins.eval, subprocess.Popen, ...) and
// the opcodes that reach callables indirectly (INST, OBJ, EXT*) are refused.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace sd::pickle {

enum class Kind : uint8_t {
  None,
  Bool,
  Int,
  Float,
  String,
  Bytes,
  Tuple,
  List,  // also sets and frozensets
  Dict,  // also OrderedDict
  Global,
  PersistentId,  // BINPERSID: items[0] is the id (torch: a 'storage' tuple)
  Call,          // an allowed callable applied to arguments, never executed
};

// What an allowed global is, for the caller's interpretation.
enum class GlobalKind : uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, Storage, Inert };

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // String, Bytes; Global: "module.name"
  GlobalKind global = GlobalKind::Inert;
  DType storage_dtype = DType::F32;              // Global of kind Storage
  std::vector<const Value*> items;               // Tuple, List, PersistentId
  std::vector<std::pair<const Value*, const Value*>> entries;  // Dict, in file order
  const Value* callee = nullptr;                 // Call: a Global
  const Value* args = nullptr;                   // Call: a Tuple
  const Value* state = nullptr;                  // Call: what BUILD gave it, or nullptr

  // Dict member with a string key (the last one when repeated), or nullptr.
  const Value* get(const std::string& key) const;
  const char* kind_name() const;
};

struct Limits {
  size_t max_values = size_t{8} << 20;      // nodes in the tree
  size_t max_items = size_t{32} << 20;      // container members, summed
  size_t max_stack = size_t{1} << 20;       // stack entries + marks
  size_t max_memo = size_t{8} << 20;
  size_t max_string_bytes = size_t{64} << 20;
};

// The tree of one pickle; owns every value (pointers stay valid while it lives).
class Document {
 public:
  const Value* root() const { return root_; }

 private:
  friend class Unpickler;
  std::deque<Value> values_;
  const Value* root_ = nullptr;
};

// Parses `size` bytes of pickle. `what` names the source in error messages.
// Throws sd::Error on anything malformed, over a limit, or not allow-listed.
Document read_pickle(const uint8_t* data, size_t size, const std::string& what, const Limits& limits = {});

}  // namespace sd::pickle
