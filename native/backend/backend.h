// The compute backend interface. Models (CLIP, UNet, VAE) are written once
// against it; the CPU backend always builds, the CUDA backend when nvcc does.
// Activations are backend tensors (F32 host memory on the CPU); images are NHWC
// [batch, height, width, channels]; token sequences [batch, tokens, channels].
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"
#include "ops/cpu/gemm.h"

namespace sd {

enum class WeightKind {
  Vector,  // biases, norm scales: kept as F32
  Matrix,  // Linear [out, in]
  Conv,    // Conv2d [out, in, kh, kw]
  Table,   // embeddings [rows, width], read by row
};

// A weight in the form one backend computes with.
struct DeviceWeight {
  std::string name;
  Shape shape;  // as in the checkpoint
  WeightKind kind = WeightKind::Vector;
  Tensor tensor;        // Vector/Table (and CUDA matrices): on the backend's device
  PackedWeight packed;  // CPU Matrix/Conv: GEMM panels
  size_t bytes() const { return (tensor.defined() ? tensor.nbytes() : 0) + packed.bytes(); }
};

class WeightStore;

// Options of a compute device (ignored by the CPU backend).
struct BackendOptions {
  bool half_activations = true;     // fp16 storage, fp32 accumulation; false = fp32 everywhere (--no-half)
  size_t device_budget_bytes = 0;   // cap on all device memory the engine allocates (0 = none)
  size_t attention_workspace_bytes = 512u << 20;  // scores of one attention query chunk
  bool bf16_compute = false;        // CPU: attention products in bf16 too (with bf16 weights)
  bool winograd = true;             // CPU: 3x3 convolutions by Winograd F(4x4, 3x3) where it applies
};

struct DeviceMemoryReport {
  size_t in_use = 0;
  size_t peak_in_use = 0;   // most bytes allocated at once since the last reset
  size_t peak_reserved = 0; // including the allocator's cache
  size_t budget = 0;
};

struct Conv2dParams {
  int stride = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  // The convolution sees its input upsampled by this factor (nearest), without
  // that 4x larger image being made: the VAE's last upsample alone would be
  // 256 MiB at 512x512. Padding counts in upsampled pixels.
  int upsample = 1;
  static Conv2dParams same(int kernel) {
    const int p = kernel / 2;
    return {1, p, p, p, p};
  }
  Conv2dParams upsampled(int factor) const {
    Conv2dParams q = *this;
    q.upsample = factor;
    return q;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual Device device() const = 0;

  // Turns a host weight (storage dtype) into this backend's form.
  virtual DeviceWeight prepare_weight(const std::string& name, const Tensor& host, WeightKind kind,
                                      DType storage) = 0;

  // Weight uploads between begin_weight_group() and end_weight_group() may run
  // asynchronously (CUDA: a copy stream, after the compute already queued);
  // wait_weight_group() makes later compute wait for them. No-ops on the CPU.
  virtual uint64_t begin_weight_group() { return 0; }
  virtual void end_weight_group(uint64_t ticket) {}
  virtual void wait_weight_group(uint64_t ticket) {}

  // Moves host weights into the form uploads want (CUDA: pinned memory, device
  // layout), so streaming modes copy without converting. No-op on the CPU.
  virtual void adopt_host_weights(WeightStore& store, DType storage) {}
  virtual DeviceMemoryReport device_memory() const { return {}; }
  virtual void reset_device_peak() {}
  // Waits for queued work (timings); rethrows asynchronous device errors.
  virtual void synchronize() {}

  // Bytes prepare_weight() will allocate for such a weight (for budgets).
  virtual size_t prepared_bytes(const Shape& shape, WeightKind kind, DType storage) const = 0;

  virtual Tensor upload(const Tensor& host) = 0;  // host F32 -> activation
  virtual Tensor download(const Tensor& t) = 0;   // activation -> host F32
  virtual Tensor empty(const Shape& shape) = 0;

  // y[..., N] = x[..., K] W^T (+ bias) (+ residual, same shape as y)
  virtual Tensor linear(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias,
                        const Tensor* residual = nullptr) = 0;
  // x [B, H, W, Cin] -> [B, OH, OW, Cout] (+ residual)
  virtual Tensor conv2d(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias, const Conv2dParams& p,
                        const Tensor* residual = nullptr) = 0;
  // x [B, ..., C]; statistics per (batch, group) over everything but the batch.
  virtual Tensor group_norm(const Tensor& x, int groups, const DeviceWeight& gamma, const DeviceWeight& beta,
                            float eps, bool silu) = 0;
  // The same, taking x over: where x is its storage's only owner a backend may
  // normalise in place (CPU does: a copy of the VAE's largest activation,
  // 256 MiB at 512x512, is the difference).
  virtual Tensor group_norm_consume(Tensor x, int groups, const DeviceWeight& gamma, const DeviceWeight& beta,
                                    float eps, bool silu) {
    return group_norm(x, groups, gamma, beta, eps, silu);
  }
  virtual Tensor layer_norm(const Tensor& x, const DeviceWeight& gamma, const DeviceWeight& beta, float eps) = 0;
  // q [B, Nq, H*D], k/v [B, Nk, H*D] -> [B, Nq, H*D]
  virtual Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int heads, float scale,
                           bool causal) = 0;

  virtual Tensor silu(const Tensor& x) = 0;
  virtual Tensor gelu(const Tensor& x) = 0;
  virtual Tensor quick_gelu(const Tensor& x) = 0;
  virtual Tensor geglu(const Tensor& x) = 0;  // [..., 2F] -> [..., F]
  virtual Tensor add(const Tensor& a, const Tensor& b) = 0;
  // x [B, ..., C] += v [B, C]
  virtual void add_channel_vector(Tensor& x, const Tensor& v) = 0;
  // Nearest-neighbour resize [B, H, W, C] -> [B, out_h, out_w, C] (source row floor(y * H / out_h)).
  virtual Tensor upsample_nearest(const Tensor& x, int64_t out_h, int64_t out_w) = 0;
  Tensor upsample_nearest2x(const Tensor& x) { return upsample_nearest(x, x.dim(1) * 2, x.dim(2) * 2); }
  virtual Tensor concat_channels(const Tensor& a, const Tensor& b) = 0;
  // ids: host I32 [B, T] -> rows of the table [B, T, width]
  virtual Tensor embedding(const Tensor& ids, const DeviceWeight& table) = 0;
  virtual Tensor nchw_to_nhwc(const Tensor& x) = 0;  // [B, C, H, W] -> [B, H, W, C]
  virtual Tensor nhwc_to_nchw(const Tensor& x) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& options = {});
// Throws sd::Error saying why when CUDA is not built in or no device is usable.
std::unique_ptr<Backend> make_cuda_backend(int device_index, const BackendOptions& options);
bool cuda_available(std::string* why_not);

}  // namespace sd
