#include "tools/torch_pickle_writer.h"

#include "core/error.h"

namespace sd {

const char* torch_storage_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "FloatStorage";
    case DType::F16: return "HalfStorage";
    case DType::BF16: return "BFloat16Storage";
    case DType::F64: return "DoubleStorage";
    case DType::I64: return "LongStorage";
    case DType::I32: return "IntStorage";
    case DType::I16: return "ShortStorage";
    case DType::I8: return "CharStorage";
    case DType::U8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
  }
  fail("no torch storage type for ", dtype_name(dtype));
}

namespace {

class PickleWriter {
 public:
  std::string out;

  void op(char c) { out.push_back(c); }
  void raw_le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      raw_le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      op('M');
      raw_le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      raw_le(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      op('\x8a');  // LONG1, 8 bytes two's complement
      raw_le(8, 1);
      raw_le(static_cast<uint64_t>(v), 8);
    }
  }
  void string(const std::string& s) {
    op('X');  // BINUNICODE
    raw_le(s.size(), 4);
    out += s;
  }
  void global(const char* module, const char* name) {
    op('c');
    out += module;
    out += '\n';
    out += name;
    out += '\n';
  }
  void int_tuple(const std::vector<int64_t>& v) {
    if (v.empty()) {
      op(')');
      return;
    }
    op('(');
    for (const int64_t x : v) integer(x);
    op('t');
  }
};

}  // namespace

std::string torch_state_dict_pickle(const std::vector<PickledTensor>& tensors, int64_t global_step) {
  PickleWriter w;
  w.op('\x80');
  w.raw_le(2, 1);
  w.op('}');
  w.string("global_step");
  w.integer(global_step);
  w.op('s');
  w.string("state_dict");
  w.global("collections", "OrderedDict");
  w.op(')');
  w.op('R');
  // SETITEMS in batches of 1000, as pickle does.
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (i % 1000 == 0) w.op('(');
    const PickledTensor& t = tensors[i];
    w.string(t.name);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.op('(');
    // Persistent id: ('storage', torch.XStorage, key, 'cpu', numel).
    w.op('(');
    w.string("storage");
    w.global("torch", torch_storage_name(t.dtype));
    w.string(t.storage_key);
    w.string("cpu");
    w.integer(shape_numel(t.shape));
    w.op('t');
    w.op('Q');
    w.integer(0);  // storage offset
    w.int_tuple(t.shape);
    std::vector<int64_t> strides(t.shape.size());
    int64_t stride = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      strides[d] = stride;
      stride *= t.shape[d];
    }
    w.int_tuple(strides);
    w.op('\x89');  // requires_grad False
    w.global("collections", "OrderedDict");  // backward hooks
    w.op(')');
    w.op('R');
    w.op('t');
    w.op('R');
    if (i % 1000 == 999 || i + 1 == tensors.size()) w.op('u');
  }
  w.op('s');
  w.op('.');
  return std::move(w.out);
}

}  // namespace sd
