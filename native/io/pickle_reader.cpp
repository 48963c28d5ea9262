#include "io/pickle_reader.h"

#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace sd::pickle {

const Value* Value::get(const std::string& key) const {
  const Value* found = nullptr;
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::String && k->text == key) found = v;
  return found;
}

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::PersistentId: return "persistent id";
    case Kind::Call: return "object";
  }
  return "?";
}

namespace {

struct AllowedGlobal {
  const char* module;
  const char* name;
  GlobalKind kind;
  DType dtype;
};

constexpr AllowedGlobal kAllowed[] = {
    {"collections", "OrderedDict", GlobalKind::OrderedDict, DType::F32},
    {"torch._utils", "_rebuild_tensor_v2", GlobalKind::RebuildTensorV2, DType::F32},
    {"torch._utils", "_rebuild_parameter", GlobalKind::RebuildParameter, DType::F32},
    {"torch", "FloatStorage", GlobalKind::Storage, DType::F32},
    {"torch", "DoubleStorage", GlobalKind::Storage, DType::F64},
    {"torch", "HalfStorage", GlobalKind::Storage, DType::F16},
    {"torch", "BFloat16Storage", GlobalKind::Storage, DType::BF16},
    {"torch", "LongStorage", GlobalKind::Storage, DType::I64},
    {"torch", "IntStorage", GlobalKind::Storage, DType::I32},
    {"torch", "ShortStorage", GlobalKind::Storage, DType::I16},
    {"torch", "CharStorage", GlobalKind::Storage, DType::I8},
    {"torch", "ByteStorage", GlobalKind::Storage, DType::U8},
    {"torch", "BoolStorage", GlobalKind::Storage, DType::Bool},
    // Inert: recorded, never interpreted (see the header).
    {"pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint", GlobalKind::Inert, DType::F32},
    {"numpy.core.multiarray", "scalar", GlobalKind::Inert, DType::F32},
    {"numpy.core.multiarray", "_reconstruct", GlobalKind::Inert, DType::F32},
    {"numpy._core.multiarray", "scalar", GlobalKind::Inert, DType::F32},
    {"numpy", "dtype", GlobalKind::Inert, DType::F32},
    {"numpy", "ndarray", GlobalKind::Inert, DType::F32},
    {"_codecs", "encode", GlobalKind::Inert, DType::F32},
    {"builtins", "set", GlobalKind::Inert, DType::F32},
    {"__builtin__", "set", GlobalKind::Inert, DType::F32},
};

bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // Overlong forms and values past U+10FFFF; Python's pickle allows lone
    // surrogates (surrogatepass), so they are accepted here too.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += len;
  }
  return true;
}

}  // namespace

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const std::string& what, const Limits& limits)
      : p_(data), n_(size), what_(what), limits_(limits) {}

  Document run() {
    while (pos_ < n_) {
      op_pos_ = pos_;
      const uint8_t op = p_[pos_++];
      if (op == '.') {  // STOP
        doc_.root_ = pop();
        return std::move(doc_);
      }
      step(op);
    }
    corrupt("it ends without a STOP opcode (truncated?)");
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  const std::string& what_;
  const Limits& limits_;
  Document doc_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each MARK
  std::unordered_map<uint32_t, Value*> memo_;
  size_t items_ = 0;

  template <typename... Parts>
  [[noreturn]] void corrupt(Parts&&... parts) const {
    fail(what_, ": damaged pickle at byte ", op_pos_, ": ", std::forward<Parts>(parts)...);
  }

  // ---- input ---------------------------------------------------------------
  const uint8_t* take(size_t n) {
    if (n > n_ - pos_) corrupt("it ends in the middle of an opcode (truncated?)");
    const uint8_t* at = p_ + pos_;
    pos_ += n;
    return at;
  }
  uint64_t le(size_t n) {
    const uint8_t* b = take(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | b[i];
    return v;
  }
  std::string line() {  // GLOBAL / INST arguments: text up to '\n'
    const size_t start = pos_;
    while (pos_ < n_ && p_[pos_] != '\n') {
      if (pos_ - start > 512) corrupt("a global name is over 512 bytes");
      ++pos_;
    }
    if (pos_ >= n_) corrupt("it ends in the middle of a global name (truncated?)");
    std::string s(reinterpret_cast<const char*>(p_ + start), pos_ - start);
    ++pos_;
    return s;
  }

  // ---- values and stack -----------------------------------------------------
  Value* make(Kind kind) {
    if (doc_.values_.size() >= limits_.max_values) corrupt("more than ", limits_.max_values, " values");
    doc_.values_.emplace_back();
    Value* v = &doc_.values_.back();
    v->kind = kind;
    return v;
  }
  void count_items(size_t n) {
    items_ += n;
    if (items_ > limits_.max_items) corrupt("more than ", limits_.max_items, " container members");
  }
  void push(Value* v) {
    if (stack_.size() + marks_.size() >= limits_.max_stack) corrupt("the stack is deeper than ", limits_.max_stack);
    stack_.push_back(v);
  }
  size_t frame_base() const { return marks_.empty() ? 0 : marks_.back(); }
  Value* top() {
    if (stack_.size() <= frame_base()) corrupt("stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  // The values pushed since the last MARK, which is removed.
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) corrupt("an opcode needs a MARK and there is none");
    const size_t base = marks_.back();
    marks_.pop_back();
    std::vector<Value*> out(stack_.begin() + static_cast<std::ptrdiff_t>(base), stack_.end());
    stack_.resize(base);
    count_items(out.size());
    return out;
  }
  Value* string_value(Kind kind, size_t len) {
    if (len > limits_.max_string_bytes) corrupt("a string of ", len, " bytes (over the limit)");
    const uint8_t* b = take(len);
    if (kind == Kind::String && !valid_utf8(b, len)) corrupt("a string is not valid UTF-8");
    Value* v = make(kind);
    v->text.assign(reinterpret_cast<const char*>(b), len);
    return v;
  }
  Value* integer(int64_t i) {
    Value* v = make(Kind::Int);
    v->integer = i;
    return v;
  }
  Value* long_value(size_t nbytes) {
    if (nbytes > 8) corrupt("an integer of ", nbytes, " bytes (more than 64 bits)");
    const uint8_t* b = take(nbytes);
    uint64_t u = 0;
    for (size_t i = nbytes; i-- > 0;) u = (u << 8) | b[i];
    if (nbytes > 0 && nbytes < 8 && (b[nbytes - 1] & 0x80)) u |= ~uint64_t{0} << (8 * nbytes);  // sign-extend
    int64_t s;
    std::memcpy(&s, &u, 8);
    return integer(s);
  }
  Value* tuple(std::vector<Value*> items) {
    Value* v = make(Kind::Tuple);
    v->items.assign(items.begin(), items.end());
    return v;
  }
  void memo_put(uint32_t index) {
    Value* v = top();
    if (memo_.size() >= limits_.max_memo && memo_.find(index) == memo_.end())
      corrupt("more than ", limits_.max_memo, " memo entries");
    memo_[index] = v;
  }
  Value* memo_get(uint32_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) corrupt("memo entry ", index, " is used before it is defined");
    return it->second;
  }

  Value* global(const std::string& module, const std::string& name) {
    for (const auto& a : kAllowed) {
      if (module == a.module && name == a.name) {
        Value* v = make(Kind::Global);
        v->text = module + "." + name;
        v->global = a.kind;
        v->storage_dtype = a.dtype;
        return v;
      }
    }
    fail("refusing to load ", what_, ": its pickle references ", module, ".", name,
         ", which could run code when loaded. Only PyTorch tensor data is read from .ckpt files; "
         "use a .safetensors version of this model, or a checkpoint from a source you trust");
  }

  // REDUCE / NEWOBJ: an allowed callable applied to a tuple of arguments.
  Value* apply(Value* callee, Value* args, const char* opcode) {
    if (callee->kind != Kind::Global) corrupt(opcode, " applied to a ", callee->kind_name(), " instead of a global");
    if (args->kind != Kind::Tuple) corrupt(opcode, " with ", args->kind_name(), " arguments instead of a tuple");
    switch (callee->global) {
      case GlobalKind::OrderedDict: {
        Value* d = make(Kind::Dict);
        if (args->items.empty()) return d;
        // OrderedDict([(k, v), ...]) as older protocols write it.
        const Value* pairs = args->items[0];
        if (args->items.size() != 1 || (pairs->kind != Kind::List && pairs->kind != Kind::Tuple))
          corrupt("OrderedDict called with unexpected arguments");
        for (const Value* pair : pairs->items) {
          if ((pair->kind != Kind::Tuple && pair->kind != Kind::List) || pair->items.size() != 2)
            corrupt("OrderedDict called with an item that is not a pair");
          d->entries.emplace_back(pair->items[0], pair->items[1]);
        }
        count_items(d->entries.size());
        return d;
      }
      case GlobalKind::Storage:
        corrupt(callee->text, " is called directly; torch.save only names storage types in persistent ids");
      default: {
        Value* call = make(Kind::Call);
        call->callee = callee;
        call->args = args;
        return call;
      }
    }
  }

  void step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const unsigned version = take(1)[0];
        if (version < 2 || version > 5) corrupt("pickle protocol ", version, " (torch.save writes 2)");
        return;
      }
      case 0x95: {  // FRAME: a length hint only
        const uint64_t len = le(8);
        if (len > n_ - pos_) corrupt("a frame runs past the end (truncated?)");
        return;
      }
      case '(': {  // MARK
        if (stack_.size() + marks_.size() >= limits_.max_stack) corrupt("the stack is deeper than ", limits_.max_stack);
        marks_.push_back(stack_.size());
        return;
      }
      case '0':  // POP (pops the mark when the frame is empty, like CPython)
        if (!marks_.empty() && stack_.size() == marks_.back()) marks_.pop_back();
        else pop();
        return;
      case '1':  // POP_MARK
        pop_mark();
        return;
      case '2':  // DUP
        push(top());
        return;
      case 'N': push(make(Kind::None)); return;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        Value* v = make(Kind::Bool);
        v->boolean = op == 0x88;
        push(v);
        return;
      }
      case 'J': {  // BININT
        const auto u = static_cast<uint32_t>(le(4));
        int32_t s;
        std::memcpy(&s, &u, 4);
        push(integer(s));
        return;
      }
      case 'K': push(integer(static_cast<int64_t>(le(1)))); return;  // BININT1
      case 'M': push(integer(static_cast<int64_t>(le(2)))); return;  // BININT2
      case 0x8a: push(long_value(static_cast<size_t>(le(1)))); return;  // LONG1
      case 0x8b: {  // LONG4
        const uint64_t n = le(4);
        if (n & 0x80000000u) corrupt("a negative length");
        push(long_value(static_cast<size_t>(n)));
        return;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const uint8_t* b = take(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | b[i];
        Value* v = make(Kind::Float);
        std::memcpy(&v->real, &u, 8);
        push(v);
        return;
      }
      case 'X': push(string_value(Kind::String, static_cast<size_t>(le(4)))); return;   // BINUNICODE
      case 0x8c: push(string_value(Kind::String, static_cast<size_t>(le(1)))); return;  // SHORT_BINUNICODE
      case 0x8d: push(string_value(Kind::String, static_cast<size_t>(std::min<uint64_t>(le(8), SIZE_MAX)))); return;
      case 'T': {  // BINSTRING (protocol 1 str; torch.load decodes it as UTF-8)
        const uint64_t n = le(4);
        if (n & 0x80000000u) corrupt("a negative length");
        push(string_value(Kind::String, static_cast<size_t>(n)));
        return;
      }
      case 'U': push(string_value(Kind::String, static_cast<size_t>(le(1)))); return;  // SHORT_BINSTRING
      case 'B': push(string_value(Kind::Bytes, static_cast<size_t>(le(4)))); return;   // BINBYTES
      case 'C': push(string_value(Kind::Bytes, static_cast<size_t>(le(1)))); return;   // SHORT_BINBYTES
      case 0x8e:                                                                       // BINBYTES8
      case 0x96:                                                                       // BYTEARRAY8
        push(string_value(Kind::Bytes, static_cast<size_t>(std::min<uint64_t>(le(8), SIZE_MAX))));
        return;
      case ')': push(make(Kind::Tuple)); return;  // EMPTY_TUPLE
      case ']': push(make(Kind::List)); return;   // EMPTY_LIST
      case '}': push(make(Kind::Dict)); return;   // EMPTY_DICT
      case 0x8f: push(make(Kind::List)); return;  // EMPTY_SET
      case 't': push(tuple(pop_mark())); return;  // TUPLE
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = static_cast<size_t>(op - 0x84);
        std::vector<Value*> items(n);
        for (size_t i = n; i-- > 0;) items[i] = pop();
        count_items(n);
        push(tuple(std::move(items)));
        return;
      }
      case 'l':     // LIST
      case 0x91: {  // FROZENSET
        std::vector<Value*> items = pop_mark();
        Value* v = make(Kind::List);
        v->items.assign(items.begin(), items.end());
        push(v);
        return;
      }
      case 'd': {  // DICT
        std::vector<Value*> items = pop_mark();
        if (items.size() % 2) corrupt("DICT with an odd number of items");
        Value* v = make(Kind::Dict);
        for (size_t i = 0; i < items.size(); i += 2) v->entries.emplace_back(items[i], items[i + 1]);
        push(v);
        return;
      }
      case 'a': {  // APPEND
        Value* item = pop();
        Value* list = top();
        if (list->kind != Kind::List) corrupt("APPEND to a ", list->kind_name());
        count_items(1);
        list->items.push_back(item);
        return;
      }
      case 'e':     // APPENDS
      case 0x90: {  // ADDITEMS
        std::vector<Value*> items = pop_mark();
        Value* list = top();
        if (list->kind != Kind::List) corrupt(op == 'e' ? "APPENDS" : "ADDITEMS", " to a ", list->kind_name());
        list->items.insert(list->items.end(), items.begin(), items.end());
        return;
      }
      case 's': {  // SETITEM
        Value* value = pop();
        Value* key = pop();
        Value* dict = top();
        if (dict->kind != Kind::Dict) corrupt("SETITEM on a ", dict->kind_name());
        count_items(1);
        dict->entries.emplace_back(key, value);
        return;
      }
      case 'u': {  // SETITEMS
        std::vector<Value*> items = pop_mark();
        Value* dict = top();
        if (dict->kind != Kind::Dict) corrupt("SETITEMS on a ", dict->kind_name());
        if (items.size() % 2) corrupt("SETITEMS with an odd number of items");
        for (size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
        return;
      }
      case 'q': memo_put(static_cast<uint32_t>(le(1))); return;  // BINPUT
      case 'r': memo_put(static_cast<uint32_t>(le(4))); return;  // LONG_BINPUT
      case 0x94: memo_put(static_cast<uint32_t>(memo_.size())); return;  // MEMOIZE
      case 'h': push(memo_get(static_cast<uint32_t>(le(1)))); return;  // BINGET
      case 'j': push(memo_get(static_cast<uint32_t>(le(4)))); return;  // LONG_BINGET
      case 'c': {  // GLOBAL "module\nname\n"
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = pop();
        Value* module = pop();
        if (name->kind != Kind::String || module->kind != Kind::String) corrupt("STACK_GLOBAL with non-string names");
        push(global(module->text, name->text));
        return;
      }
      case 'Q': {  // BINPERSID
        Value* id = pop();
        Value* v = make(Kind::PersistentId);
        v->items.push_back(id);
        push(v);
        return;
      }
      case 'R': {  // REDUCE
        Value* args = pop();
        Value* callee = pop();
        push(apply(callee, args, "REDUCE"));
        return;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        Value* args = pop();
        Value* cls = pop();
        if (cls->kind == Kind::Global && cls->global != GlobalKind::OrderedDict && cls->global != GlobalKind::Inert)
          corrupt("NEWOBJ on ", cls->text);
        push(apply(cls, args, "NEWOBJ"));
        return;
      }
      case 0x92: {  // NEWOBJ_EX: keyword arguments are ignored like the rest
        Value* kwargs = pop();
        Value* args = pop();
        Value* cls = pop();
        if (kwargs->kind != Kind::Dict) corrupt("NEWOBJ_EX with non-dict keyword arguments");
        if (cls->kind == Kind::Global && cls->global != GlobalKind::OrderedDict && cls->global != GlobalKind::Inert)
          corrupt("NEWOBJ_EX on ", cls->text);
        push(apply(cls, args, "NEWOBJ_EX"));
        return;
      }
      case 'b': {  // BUILD: obj.__setstate__(state) — recorded, never run
        Value* state = pop();
        Value* obj = top();
        if (obj->kind == Kind::Call) obj->state = state;
        else if (obj->kind != Kind::Dict) corrupt("BUILD on a ", obj->kind_name());
        // An OrderedDict's state is its attributes (torch: `_metadata`), not items.
        return;
      }
      case 'i':    // INST
      case 'o': {  // OBJ
        if (op == 'i') {
          const std::string module = line();
          const std::string name = line();
          global(module, name);  // refuses foreign classes by name
        }
        corrupt("opcode ", op == 'i' ? "INST" : "OBJ", " (protocol 0/1 object construction), which torch.save never writes");
      }
      case 0x82:
      case 0x83:
      case 0x84: {  // EXT1/2/4
        const uint64_t code = le(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
        fail("refusing to load ", what_, ": its pickle uses the copyreg extension registry (code ", code,
             "), which can name any callable");
      }
      case 0x97:
      case 0x98:
        corrupt("out-of-band buffers (pickle protocol 5), which torch.save never writes");
      default:
        if (op >= 0x20 && op < 0x7f)
          corrupt("unsupported opcode '", static_cast<char>(op), "' (a text-protocol opcode torch.save never writes)");
        corrupt("unknown opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15]);
    }
  }
};

Document read_pickle(const uint8_t* data, size_t size, const std::string& what, const Limits& limits) {
  return Unpickler(data, size, what, limits).run();
}

}  // namespace sd::pickle
