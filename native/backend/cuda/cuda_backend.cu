// The CUDA backend: activations in fp16 (fp32 accumulation) or fp32, weights
// uploaded in device layout, a compute stream plus an upload stream so
// --lowvram can copy the next UNet block while the current one computes.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_set>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/device_allocator.h"
#include "backend/cuda/pinned_arena.h"
#include "core/half.h"
#include "core/host_allocator.h"
#include "model/residency.h"
#include "model/weight_store.h"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/flash_attention.cuh"
#include "ops/cuda/gemm.cuh"
#include "ops/cuda/kernels.cuh"

namespace sd {

namespace {

using cuda::GemmArgs;
using cuda::GemmType;

// Host form of a weight as the device wants it: vectors F32; matrices and
// tables in the activation type; conv kernels [Cout, kh, kw, Cin] (tap-major,
// matching the NHWC implicit im2col).
void device_layout(const Tensor& host, WeightKind kind, bool half_acts, void* dst) {
  const size_t n = static_cast<size_t>(host.numel());
  std::vector<float> f(n);
  convert_to_f32(host.dtype(), host.raw(), f.data(), n);
  if (kind == WeightKind::Conv) {
    const int64_t co = host.dim(0), ci = host.dim(1), taps = host.dim(2) * host.dim(3);
    std::vector<float> r(n);
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t t = 0; t < taps; ++t) r[static_cast<size_t>((o * taps + t) * ci + c)] = f[static_cast<size_t>((o * ci + c) * taps + t)];
    f.swap(r);
  }
  if (kind == WeightKind::Vector || !half_acts) {
    std::memcpy(dst, f.data(), n * 4);
  } else {
    convert_from_f32(f.data(), DType::F16, dst, n);
  }
}

DType device_dtype(WeightKind kind, bool half_acts) {
  return (kind == WeightKind::Vector || !half_acts) ? DType::F32 : DType::F16;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, const BackendOptions& options) : device_(device), half_(options.half_activations) {
    int count = 0;
    SD_CUDA_CHECK(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    SD_CHECK(device >= 0 && device < count, "CUDA device ", device, " does not exist (", count, " found)");
    SD_CUDA_CHECK(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop;
    SD_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    name_ = prop.name;
    tensor_cores_ = prop.major >= 7;
    major_ = prop.major;
    // SD_CUDA_ATTENTION=chunked: the score-matrix path, for comparison and debugging.
    const char* attention_env = std::getenv("SD_CUDA_ATTENTION");
    use_flash_ = !(attention_env && std::string(attention_env) == "chunked");
    SD_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking), "cudaStreamCreate (compute)");
    SD_CUDA_CHECK(cudaStreamCreateWithFlags(&upload_, cudaStreamNonBlocking), "cudaStreamCreate (upload)");
    allocator_ = std::make_shared<cuda::DeviceAllocator>(device, options.device_budget_bytes);
    sync_each_op_ = std::getenv("SD_CUDA_SYNC") != nullptr;
    // Attention's score workspace: bounded so it never dominates a small budget.
    attention_workspace_ = options.attention_workspace_bytes;
    SD_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  }

  ~CudaBackend() override {
    cudaSetDevice(device_);
    cudaStreamSynchronize(compute_);
    cudaStreamSynchronize(upload_);
    for (auto& [t, e] : groups_) cudaEventDestroy(e);
    cudaStreamDestroy(compute_);
    cudaStreamDestroy(upload_);
  }

  const char* name() const override { return "cuda"; }
  Device device() const override { return Device::CUDA; }

  size_t prepared_bytes(const Shape& shape, WeightKind kind, DType) const override {
    return static_cast<size_t>(shape_numel(shape)) * dtype_size(device_dtype(kind, half_));
  }

  void adopt_host_weights(WeightStore& store, DType) override {
    auto arena = std::make_shared<cuda::PinnedArena>();
    // Freed originals go to the host allocator's cache, which keeps them
    // mapped: returned to the OS every 64 MiB, the pinned copy never coexists
    // with the whole pageable one (which had made --lowvram peak at 4.5 GB of
    // RSS for 2.1 GB of weights, too much for a 4 GB laptop).
    size_t freed = 0;
    for (const std::string& name : store.names_with_prefix("")) {
      Tensor host = store.get(name);
      if (!is_network_weight(name, host.dtype())) continue;
      const WeightKind kind = weight_kind_for(name, host.shape());
      const DType dt = device_dtype(kind, half_);
      Tensor ready(arena->allocate(static_cast<size_t>(host.numel()) * dtype_size(dt)), host.shape(), dt);
      device_layout(host, kind, half_, ready.raw());
      freed += host.nbytes();
      host = Tensor();
      store.put(name, ready);  // the pageable original is freed here
      adopted_.insert(ready.raw());
      if (freed >= (size_t{64} << 20)) {
        host_trim();
        freed = 0;
      }
    }
  }

  DeviceWeight prepare_weight(const std::string& name, const Tensor& host, WeightKind kind, DType) override {
    SD_CUDA_CHECK(cudaSetDevice(device_), "cudaSetDevice");
    DeviceWeight w;
    w.name = name;
    w.shape = host.shape();
    w.kind = kind;
    const DType dt = device_dtype(kind, half_);
    const size_t bytes = static_cast<size_t>(host.numel()) * dtype_size(dt);
    Tensor dev(allocator_->allocate(bytes, name.c_str()), host.shape(), dt);
    cudaStream_t s = in_group_ ? upload_ : compute_;
    if (adopted_.count(host.raw())) {
      SD_CUDA_CHECK(cudaMemcpyAsync(dev.raw(), host.raw(), bytes, cudaMemcpyHostToDevice, s), concat("upload of ", name));
    } else {
      // Pageable staging: the copy has left the buffer when cudaMemcpyAsync returns.
      std::vector<uint8_t> staging(bytes);
      device_layout(host, kind, half_, staging.data());
      SD_CUDA_CHECK(cudaMemcpyAsync(dev.raw(), staging.data(), bytes, cudaMemcpyHostToDevice, s), concat("upload of ", name));
      SD_CUDA_CHECK(cudaStreamSynchronize(s), concat("upload of ", name));
    }
    w.tensor = dev;
    return w;
  }

  uint64_t begin_weight_group() override {
    // Uploads start only after the compute queued so far: the memory they
    // reuse may belong to weights that queued work still reads.
    cudaEvent_t queued;
    SD_CUDA_CHECK(cudaEventCreateWithFlags(&queued, cudaEventDisableTiming), "cudaEventCreate");
    SD_CUDA_CHECK(cudaEventRecord(queued, compute_), "cudaEventRecord");
    SD_CUDA_CHECK(cudaStreamWaitEvent(upload_, queued, 0), "cudaStreamWaitEvent");
    SD_CUDA_CHECK(cudaEventDestroy(queued), "cudaEventDestroy");
    in_group_ = true;
    return ++next_ticket_;
  }

  void end_weight_group(uint64_t ticket) override {
    in_group_ = false;
    cudaEvent_t done;
    SD_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate");
    SD_CUDA_CHECK(cudaEventRecord(done, upload_), "cudaEventRecord");
    groups_[ticket] = done;
  }

  void wait_weight_group(uint64_t ticket) override {
    const auto it = groups_.find(ticket);
    if (it == groups_.end()) return;
    SD_CUDA_CHECK(cudaStreamWaitEvent(compute_, it->second, 0), "waiting for a weight upload");
    SD_CUDA_CHECK(cudaEventDestroy(it->second), "cudaEventDestroy");
    groups_.erase(it);
  }

  DeviceMemoryReport device_memory() const override {
    const cuda::DeviceMemoryStats s = allocator_->stats();
    return {s.in_use, s.peak_in_use, s.peak_reserved, s.budget};
  }
  void reset_device_peak() override { allocator_->reset_peak(); }
  void synchronize() override {
    SD_CUDA_CHECK(cudaStreamSynchronize(upload_), "synchronize (upload stream)");
    SD_CUDA_CHECK(cudaStreamSynchronize(compute_), "synchronize (compute stream)");
  }

  Tensor empty(const Shape& shape) override {
    const DType dt = half_ ? DType::F16 : DType::F32;
    const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dt);
    return Tensor(allocator_->allocate(bytes, "activations"), shape, dt);
  }

  Tensor upload(const Tensor& host) override {
    SD_CHECK(host.device() == Device::CPU, "upload: expected a host tensor");
    Tensor t = empty(host.shape());
    std::vector<uint8_t> staging(t.nbytes());
    const Tensor f = host.dtype() == DType::F32 ? host : host.clone_host(true);
    convert_from_f32(f.data<float>(), t.dtype(), staging.data(), static_cast<size_t>(t.numel()));
    SD_CUDA_CHECK(cudaMemcpyAsync(t.raw(), staging.data(), t.nbytes(), cudaMemcpyHostToDevice, compute_), "upload");
    SD_CUDA_CHECK(cudaStreamSynchronize(compute_), "upload");
    return t;
  }

  Tensor download(const Tensor& t) override {
    if (t.device() == Device::CPU) return t.dtype() == DType::F32 ? t : t.clone_host(true);
    std::vector<uint8_t> staging(t.nbytes());
    SD_CUDA_CHECK(cudaMemcpyAsync(staging.data(), t.raw(), t.nbytes(), cudaMemcpyDeviceToHost, compute_), "download");
    SD_CUDA_CHECK(cudaStreamSynchronize(compute_), "download (or an earlier queued kernel)");
    Tensor out = Tensor::host(t.shape(), DType::F32);
    convert_to_f32(t.dtype(), staging.data(), out.data<float>(), static_cast<size_t>(t.numel()));
    return out;
  }

  Tensor linear(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias, const Tensor* residual) override {
    check_act(x, "linear");
    const int64_t k = x.dim(-1), n = w.shape[0];
    SD_CHECK(w.kind == WeightKind::Matrix && w.shape.size() == 2 && w.shape[1] == k, "linear ", w.name, ": input has ",
             k, " features, weight is ", shape_str(w.shape));
    Shape out_shape = x.shape();
    out_shape.back() = n;
    Tensor y = empty(out_shape);
    GemmArgs g;
    g.M = static_cast<int>(x.numel() / k);
    g.N = static_cast<int>(n);
    g.K = static_cast<int>(k);
    g.a = x.raw();
    g.lda = k;
    g.b = w.tensor.raw();
    g.ldb = k;
    g.c = y.raw();
    g.ldc = n;
    set_epilogue(g, bias, residual, out_shape, n);
    run_gemm(g, "linear");
    return y;
  }

  Tensor conv2d(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias, const Conv2dParams& p,
                const Tensor* residual) override {
    check_act(x, "conv2d");
    SD_CHECK(x.ndim() == 4 && w.kind == WeightKind::Conv && w.shape[1] == x.dim(3), "conv2d ", w.name, ": input ",
             x.describe(), " does not fit the kernel ", shape_str(w.shape));
    SD_CHECK(p.upsample >= 1, "conv2d ", w.name, ": upsample factor must be at least 1");
    if (p.upsample > 1) {
      // The implicit GEMM here reads stored pixels only; the upsampled image
      // is made for this one convolution and freed right after it.
      const Tensor up = upsample_nearest(x, x.dim(1) * p.upsample, x.dim(2) * p.upsample);
      return conv2d(up, w, bias, p.upsampled(1), residual);
    }
    cuda::ConvGeo geo;
    geo.batch = static_cast<int>(x.dim(0));
    geo.in_h = static_cast<int>(x.dim(1));
    geo.in_w = static_cast<int>(x.dim(2));
    geo.in_c = static_cast<int>(x.dim(3));
    geo.kh = static_cast<int>(w.shape[2]);
    geo.kw = static_cast<int>(w.shape[3]);
    geo.stride = p.stride;
    geo.pad_top = p.pad_top;
    geo.pad_left = p.pad_left;
    geo.out_h = (geo.in_h + p.pad_top + p.pad_bottom - geo.kh) / p.stride + 1;
    geo.out_w = (geo.in_w + p.pad_left + p.pad_right - geo.kw) / p.stride + 1;
    SD_CHECK(geo.out_h > 0 && geo.out_w > 0, "conv2d ", w.name, ": image too small");
    const int64_t n = w.shape[0];
    const Shape out_shape{x.dim(0), geo.out_h, geo.out_w, n};
    Tensor y = empty(out_shape);
    GemmArgs g;
    g.M = geo.batch * geo.out_h * geo.out_w;
    g.N = static_cast<int>(n);
    g.K = geo.kh * geo.kw * geo.in_c;
    g.a = x.raw();
    g.lda = geo.in_c;
    g.b = w.tensor.raw();
    g.ldb = g.K;
    g.c = y.raw();
    g.ldc = n;
    g.conv = !(geo.kh == 1 && geo.kw == 1 && p.stride == 1 && p.pad_top == 0 && p.pad_left == 0);
    g.geo = geo;
    set_epilogue(g, bias, residual, out_shape, n);
    run_gemm(g, "conv2d");
    return y;
  }

  Tensor group_norm(const Tensor& x, int groups, const DeviceWeight& gamma, const DeviceWeight& beta, float eps,
                    bool silu) override {
    check_act(x, "group_norm");
    const int64_t b = x.dim(0), c = x.dim(-1);
    Tensor y = empty(x.shape());
    Tensor stats(allocator_->allocate(sizeof(float2) * static_cast<size_t>(b * groups), "group_norm"), {b, groups, 2}, DType::F32);
    auto* st = static_cast<float2*>(stats.raw());
    if (half_)
      cuda::group_norm(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()),
                       static_cast<int>(b), x.numel() / (b * c), static_cast<int>(c), groups, gamma.tensor.data<float>(),
                       beta.tensor.data<float>(), eps, silu, st, compute_);
    else
      cuda::group_norm(x.data<float>(), y.data<float>(), static_cast<int>(b), x.numel() / (b * c), static_cast<int>(c),
                       groups, gamma.tensor.data<float>(), beta.tensor.data<float>(), eps, silu, st, compute_);
    after("group_norm");
    return y;
  }

  Tensor layer_norm(const Tensor& x, const DeviceWeight& gamma, const DeviceWeight& beta, float eps) override {
    check_act(x, "layer_norm");
    Tensor y = empty(x.shape());
    const int64_t c = x.dim(-1);
    if (half_)
      cuda::layer_norm(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), x.numel() / c, static_cast<int>(c),
                       gamma.tensor.data<float>(), beta.tensor.data<float>(), eps, compute_);
    else
      cuda::layer_norm(x.data<float>(), y.data<float>(), x.numel() / c, static_cast<int>(c), gamma.tensor.data<float>(),
                       beta.tensor.data<float>(), eps, compute_);
    after("layer_norm");
    return y;
  }

  Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int heads, float scale, bool causal) override {
    check_act(q, "attention");
    SD_CHECK(q.ndim() == 3 && k.shape() == v.shape() && q.dim(0) == k.dim(0) && q.dim(2) == k.dim(2) && q.dim(2) % heads == 0,
             "attention: incompatible q ", q.describe(), ", k ", k.describe());
    const int64_t b = q.dim(0), nq = q.dim(1), nk = k.dim(1), c = q.dim(2), d = c / heads;
    Tensor out = empty(q.shape());
    if (half_ && use_flash_ && cuda::flash_attention_supported(static_cast<int>(d), major_)) {
      cuda::FlashArgs f{static_cast<const half*>(q.raw()), static_cast<const half*>(k.raw()), static_cast<const half*>(v.raw()),
                        static_cast<half*>(out.raw()), c, c, c, c, static_cast<int>(b), heads, static_cast<int>(nq),
                        static_cast<int>(nk), static_cast<int>(d), scale, causal};
      cuda::flash_attention(f, compute_);
      after("attention");
      return out;
    }
    const size_t act = half_ ? 2 : 4;
    // Query chunk so that scores (fp32) + probabilities fit the workspace.
    const size_t per_query = static_cast<size_t>(b * heads * nk) * (4 + act);
    const int64_t qc = std::max<int64_t>(1, std::min<int64_t>(nq, static_cast<int64_t>(attention_workspace_ / per_query)));
    Tensor scores(allocator_->allocate(static_cast<size_t>(b * heads * qc * nk) * 4, "attention scores"), {b * heads * qc * nk}, DType::F32);
    Tensor probs(allocator_->allocate(static_cast<size_t>(b * heads * qc * nk) * act, "attention probabilities"),
                 {b * heads * qc * nk}, half_ ? DType::F16 : DType::F32);
    const size_t esize = act;
    for (int64_t q0 = 0; q0 < nq; q0 += qc) {
      const int64_t rows = std::min(qc, nq - q0);
      GemmArgs s;  // scores[z][r][j] = q[b, q0 + r, h] . k[b, j, h]
      s.M = static_cast<int>(rows);
      s.N = static_cast<int>(nk);
      s.K = static_cast<int>(d);
      s.a = static_cast<const uint8_t*>(q.raw()) + static_cast<size_t>(q0 * c) * esize;
      s.lda = c;
      s.b = k.raw();
      s.ldb = c;
      s.c = scores.raw();
      s.ldc = nk;
      s.batch = static_cast<int>(b * heads);
      s.inner_count = heads;
      s.a_outer = nq * c;
      s.a_inner = d;
      s.b_outer = nk * c;
      s.b_inner = d;
      s.c_outer = heads * rows * nk;
      s.c_inner = rows * nk;
      run_gemm(s, "attention scores", GemmType::Float);
      if (half_)
        cuda::softmax_rows(scores.data<float>(), static_cast<half*>(probs.raw()), b * heads * rows, static_cast<int>(nk), scale,
                           causal, static_cast<int>(rows), static_cast<int>(q0), compute_);
      else
        cuda::softmax_rows(scores.data<float>(), probs.data<float>(), b * heads * rows, static_cast<int>(nk), scale, causal,
                           static_cast<int>(rows), static_cast<int>(q0), compute_);
      after("attention softmax");
      GemmArgs o;  // out[b, q0 + r, h*d + e] = sum_j p[z][r][j] v[b, j, h*d + e]
      o.M = static_cast<int>(rows);
      o.N = static_cast<int>(d);
      o.K = static_cast<int>(nk);
      o.a = probs.raw();
      o.lda = nk;
      o.b = v.raw();
      o.ldb = c;
      o.b_kn = true;
      o.c = static_cast<uint8_t*>(out.raw()) + static_cast<size_t>(q0 * c) * esize;
      o.ldc = c;
      o.batch = static_cast<int>(b * heads);
      o.inner_count = heads;
      o.a_outer = heads * rows * nk;
      o.a_inner = rows * nk;
      o.b_outer = nk * c;
      o.b_inner = d;
      o.c_outer = nq * c;
      o.c_inner = d;
      run_gemm(o, "attention output");
    }
    return out;
  }

  Tensor silu(const Tensor& x) override { return unary(x, cuda::Unary::Silu, "silu"); }
  Tensor gelu(const Tensor& x) override { return unary(x, cuda::Unary::Gelu, "gelu"); }
  Tensor quick_gelu(const Tensor& x) override { return unary(x, cuda::Unary::QuickGelu, "quick_gelu"); }

  Tensor geglu(const Tensor& x) override {
    check_act(x, "geglu");
    Shape s = x.shape();
    s.back() /= 2;
    Tensor y = empty(s);
    const int64_t f = s.back();
    if (half_) cuda::geglu(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), x.numel() / (2 * f), static_cast<int>(f), compute_);
    else cuda::geglu(x.data<float>(), y.data<float>(), x.numel() / (2 * f), static_cast<int>(f), compute_);
    after("geglu");
    return y;
  }

  Tensor add(const Tensor& a, const Tensor& b) override {
    check_act(a, "add");
    SD_CHECK(a.shape() == b.shape(), "add: ", a.describe(), " vs ", b.describe());
    Tensor y = empty(a.shape());
    if (half_) cuda::add(static_cast<const half*>(a.raw()), static_cast<const half*>(b.raw()), static_cast<half*>(y.raw()), a.numel(), compute_);
    else cuda::add(a.data<float>(), b.data<float>(), y.data<float>(), a.numel(), compute_);
    after("add");
    return y;
  }

  void add_channel_vector(Tensor& x, const Tensor& v) override {
    check_act(x, "add_channel_vector");
    const int64_t b = x.dim(0), c = x.dim(-1);
    SD_CHECK(v.numel() == b * c, "add_channel_vector: ", v.describe(), " for ", x.describe());
    if (half_) cuda::add_channel_vector(static_cast<half*>(x.raw()), static_cast<const half*>(v.raw()), static_cast<int>(b), x.numel() / (b * c), static_cast<int>(c), compute_);
    else cuda::add_channel_vector(x.data<float>(), v.data<float>(), static_cast<int>(b), x.numel() / (b * c), static_cast<int>(c), compute_);
    after("add_channel_vector");
  }

  Tensor upsample_nearest(const Tensor& x, int64_t out_h, int64_t out_w) override {
    check_act(x, "upsample");
    Tensor y = empty({x.dim(0), out_h, out_w, x.dim(3)});
    const int b = static_cast<int>(x.dim(0)), h = static_cast<int>(x.dim(1)), w = static_cast<int>(x.dim(2)), c = static_cast<int>(x.dim(3));
    const int oh = static_cast<int>(out_h), ow = static_cast<int>(out_w);
    if (half_) cuda::upsample_nearest(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), b, h, w, c, oh, ow, compute_);
    else cuda::upsample_nearest(x.data<float>(), y.data<float>(), b, h, w, c, oh, ow, compute_);
    after("upsample");
    return y;
  }

  Tensor concat_channels(const Tensor& a, const Tensor& b) override {
    check_act(a, "concat");
    const int64_t rows = a.numel() / a.dim(-1);
    SD_CHECK(rows == b.numel() / b.dim(-1), "concat: ", a.describe(), " vs ", b.describe());
    Shape s = a.shape();
    s.back() = a.dim(-1) + b.dim(-1);
    Tensor y = empty(s);
    const int ca = static_cast<int>(a.dim(-1)), cb = static_cast<int>(b.dim(-1));
    if (half_) cuda::concat_channels(static_cast<const half*>(a.raw()), ca, static_cast<const half*>(b.raw()), cb, static_cast<half*>(y.raw()), rows, compute_);
    else cuda::concat_channels(a.data<float>(), ca, b.data<float>(), cb, y.data<float>(), rows, compute_);
    after("concat");
    return y;
  }

  Tensor embedding(const Tensor& ids, const DeviceWeight& table) override {
    SD_CHECK(ids.dtype() == DType::I32 && ids.device() == Device::CPU, "embedding: ids must be host I32");
    const int64_t rows = table.shape[0], width = table.shape[1];
    for (int64_t i = 0; i < ids.numel(); ++i)
      SD_CHECK(ids.data<int32_t>()[i] >= 0 && ids.data<int32_t>()[i] < rows, "token id ", ids.data<int32_t>()[i],
               " is outside the vocabulary of ", rows);
    Tensor dev_ids(allocator_->allocate(ids.nbytes(), "token ids"), ids.shape(), DType::I32);
    SD_CUDA_CHECK(cudaMemcpyAsync(dev_ids.raw(), ids.raw(), ids.nbytes(), cudaMemcpyHostToDevice, compute_), "token ids");
    SD_CUDA_CHECK(cudaStreamSynchronize(compute_), "token ids");
    Shape s = ids.shape();
    s.push_back(width);
    Tensor y = empty(s);
    if (half_) cuda::embedding(dev_ids.data<int32_t>(), static_cast<const half*>(table.tensor.raw()), static_cast<half*>(y.raw()), ids.numel(), static_cast<int>(width), static_cast<int>(rows), compute_);
    else cuda::embedding(dev_ids.data<int32_t>(), table.tensor.data<float>(), y.data<float>(), ids.numel(), static_cast<int>(width), static_cast<int>(rows), compute_);
    after("embedding");
    return y;
  }

  Tensor nchw_to_nhwc(const Tensor& x) override {
    check_act(x, "nchw_to_nhwc");
    Tensor y = empty({x.dim(0), x.dim(2), x.dim(3), x.dim(1)});
    if (half_) cuda::nchw_to_nhwc(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), x.dim(2) * x.dim(3), compute_);
    else cuda::nchw_to_nhwc(x.data<float>(), y.data<float>(), static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), x.dim(2) * x.dim(3), compute_);
    after("nchw_to_nhwc");
    return y;
  }

  Tensor nhwc_to_nchw(const Tensor& x) override {
    check_act(x, "nhwc_to_nchw");
    Tensor y = empty({x.dim(0), x.dim(3), x.dim(1), x.dim(2)});
    if (half_) cuda::nhwc_to_nchw(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), static_cast<int>(x.dim(0)), x.dim(1) * x.dim(2), static_cast<int>(x.dim(3)), compute_);
    else cuda::nhwc_to_nchw(x.data<float>(), y.data<float>(), static_cast<int>(x.dim(0)), x.dim(1) * x.dim(2), static_cast<int>(x.dim(3)), compute_);
    after("nhwc_to_nchw");
    return y;
  }

 private:
  void check_act(const Tensor& t, const char* op) const {
    SD_CHECK(t.device() == Device::CUDA && t.dtype() == (half_ ? DType::F16 : DType::F32), op,
             ": expected a device activation, got ", t.describe());
  }

  void set_epilogue(GemmArgs& g, const DeviceWeight* bias, const Tensor* residual, const Shape& out_shape, int64_t n) {
    if (bias) g.bias = bias->tensor.data<float>();
    if (residual) {
      SD_CHECK(residual->shape() == out_shape, "residual ", residual->describe(), " does not match ", shape_str(out_shape));
      g.residual = residual->raw();
      g.ldr = n;
    }
  }

  void run_gemm(const GemmArgs& g, const char* what, GemmType out = GemmType::Half) {
    const GemmType in = half_ ? GemmType::Half : GemmType::Float;
    const GemmType out_type = half_ ? out : GemmType::Float;
    // Too few output tiles to fill the GPU (the UNet's 8x8 and 16x16 levels:
    // M = 128..512, K up to 11520): split K across blocks, then reduce.
    const int splits = g.batch == 1 && tensor_cores_ && half_ ? cuda::gemm_split_k_factor(g, sm_count_) : 1;
    if (splits > 1) {
      Tensor workspace(allocator_->allocate(static_cast<size_t>(splits) * g.M * g.N * 4, "split-K workspace"),
                       {splits, g.M, g.N}, DType::F32);
      cuda::gemm_split_k(g, splits, workspace.data<float>(), out_type, compute_);
    } else {
      cuda::gemm(g, in, out_type, tensor_cores_, compute_);
    }
    after(what);
  }

  Tensor unary(const Tensor& x, cuda::Unary op, const char* what) {
    check_act(x, what);
    Tensor y = empty(x.shape());
    if (half_) cuda::unary(static_cast<const half*>(x.raw()), static_cast<half*>(y.raw()), x.numel(), op, compute_);
    else cuda::unary(x.data<float>(), y.data<float>(), x.numel(), op, compute_);
    after(what);
    return y;
  }

  // SD_CUDA_SYNC=1: synchronise after every operation so an asynchronous
  // fault names the operation that caused it.
  void after(const char* what) {
    if (sync_each_op_) SD_CUDA_CHECK(cudaStreamSynchronize(compute_), what);
  }

  int device_;
  bool half_;
  bool tensor_cores_ = false;
  bool use_flash_ = true;
  int major_ = 0;
  int sm_count_ = 0;
  bool sync_each_op_ = false;
  std::string name_;
  cudaStream_t compute_ = nullptr;
  cudaStream_t upload_ = nullptr;
  std::shared_ptr<cuda::DeviceAllocator> allocator_;
  size_t attention_workspace_;
  bool in_group_ = false;
  uint64_t next_ticket_ = 0;
  std::map<uint64_t, cudaEvent_t> groups_;
  std::unordered_set<const void*> adopted_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device_index, const BackendOptions& options) {
  std::string why;
  SD_CHECK(cuda_available(&why), "the CUDA backend cannot start: ", why);
  return std::make_unique<CudaBackend>(device_index, options);
}

bool cuda_available(std::string* why_not) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (why_not) *why_not = concat(cudaGetErrorString(err), " (is the NVIDIA driver installed and new enough?)");
    return false;
  }
  if (count == 0) {
    if (why_not) *why_not = "no CUDA device found";
    return false;
  }
  return true;
}

}  // namespace sd
