#include <algorithm>
#include <cstring>

#include "backend/backend.h"
#include "core/error.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/winograd.h"

namespace sd {

namespace {

int64_t rows_of(const Tensor& x) { return x.numel() / x.dim(-1); }

void check_host_f32(const Tensor& t, const char* op) {
  SD_CHECK(t.device() == Device::CPU && t.dtype() == DType::F32, op, ": expected a host F32 tensor, got ",
           t.describe());
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& options) : bf16_(options.bf16_compute), winograd_(options.winograd) {}
  const char* name() const override { return "cpu"; }
  Device device() const override { return Device::CPU; }

  DeviceWeight prepare_weight(const std::string& name, const Tensor& host, WeightKind kind, DType storage) override {
    DeviceWeight w;
    w.name = name;
    w.shape = host.shape();
    w.kind = kind;
    switch (kind) {
      case WeightKind::Vector: w.tensor = host.clone_host(/*to_f32=*/true); break;
      case WeightKind::Table: w.tensor = host.dtype() == DType::F32 ? host : host.clone_host(true); break;
      case WeightKind::Matrix: w.packed = pack_linear_weight(host, storage); break;
      case WeightKind::Conv: w.packed = pack_conv_weight(host, storage); break;
    }
    return w;
  }

  size_t prepared_bytes(const Shape& shape, WeightKind kind, DType storage) const override {
    const int64_t numel = shape_numel(shape);
    if (kind == WeightKind::Vector || kind == WeightKind::Table) return static_cast<size_t>(numel) * 4;
    const int64_t n = shape[0], k = numel / std::max<int64_t>(n, 1), nr = gemm_panel_width();
    return static_cast<size_t>((n + nr - 1) / nr * nr * k) * dtype_size(storage);
  }

  Tensor upload(const Tensor& host) override { return host.dtype() == DType::F32 ? host : host.clone_host(true); }
  Tensor download(const Tensor& t) override { return t; }
  Tensor empty(const Shape& shape) override { return Tensor::host(shape, DType::F32); }

  Tensor linear(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias, const Tensor* residual) override {
    check_host_f32(x, "linear");
    SD_CHECK(w.kind == WeightKind::Matrix || w.kind == WeightKind::Conv, "linear: ", w.name, " is not a matrix");
    SD_CHECK(x.dim(-1) == w.packed.K, "linear ", w.name, ": input has ", x.dim(-1), " features, weight expects ",
             w.packed.K);
    Shape out_shape = x.shape();
    out_shape.back() = w.packed.N;
    Tensor y = empty(out_shape);
    GemmEpilogue epi;
    if (bias) epi.bias = bias->tensor.data<float>();
    if (residual) {
      SD_CHECK(residual->shape() == out_shape, "linear ", w.name, ": residual shape mismatch");
      epi.residual = residual->data<float>();
      epi.ldr = w.packed.N;
    }
    gemm_dense(x.data<float>(), x.dim(-1), rows_of(x), w.packed, y.data<float>(), w.packed.N, epi);
    return y;
  }

  Tensor conv2d(const Tensor& x, const DeviceWeight& w, const DeviceWeight* bias, const Conv2dParams& p,
                const Tensor* residual) override {
    check_host_f32(x, "conv2d");
    SD_CHECK(x.ndim() == 4, "conv2d ", w.name, ": input must be [B, H, W, C], got ", x.describe());
    SD_CHECK(w.kind == WeightKind::Conv, "conv2d: ", w.name, " is not a convolution kernel");
    ConvGeometry g;
    g.batch = x.dim(0);
    g.in_h = x.dim(1);
    g.in_w = x.dim(2);
    g.in_c = x.dim(3);
    g.stride = p.stride;
    g.pad_top = p.pad_top;
    g.pad_left = p.pad_left;
    SD_CHECK(p.upsample >= 1, "conv2d ", w.name, ": upsample factor must be at least 1");
    g.upsample = p.upsample;
    g.out_h = (g.in_h * p.upsample + p.pad_top + p.pad_bottom - w.packed.kh) / p.stride + 1;
    g.out_w = (g.in_w * p.upsample + p.pad_left + p.pad_right - w.packed.kw) / p.stride + 1;
    SD_CHECK(g.out_h > 0 && g.out_w > 0, "conv2d ", w.name, ": image too small");
    const Shape out_shape{g.batch, g.out_h, g.out_w, w.packed.N};
    Tensor y = empty(out_shape);
    GemmEpilogue epi;
    if (bias) epi.bias = bias->tensor.data<float>();
    if (residual) {
      SD_CHECK(residual->shape() == out_shape, "conv2d ", w.name, ": residual ", residual->describe(),
               " does not match output ", shape_str(out_shape));
      epi.residual = residual->data<float>();
      epi.ldr = w.packed.N;
    }
    if (w.packed.kh == 1 && w.packed.kw == 1 && p.stride == 1 && p.pad_top == 0 && p.pad_left == 0 && p.upsample == 1) {
      gemm_dense(x.data<float>(), g.in_c, g.batch * g.in_h * g.in_w, w.packed, y.data<float>(), w.packed.N, epi);
    } else if (winograd_ && winograd_applies(g, w.packed)) {
      winograd_conv(x.data<float>(), g, w.packed, y.data<float>(), epi);
    } else {
      gemm_conv(x.data<float>(), g, w.packed, y.data<float>(), epi);
    }
    return y;
  }

  Tensor group_norm(const Tensor& x, int groups, const DeviceWeight& gamma, const DeviceWeight& beta, float eps,
                    bool silu) override {
    Tensor y = empty(x.shape());
    group_norm_into(x, y, groups, gamma, beta, eps, silu);
    return y;
  }

  Tensor group_norm_consume(Tensor x, int groups, const DeviceWeight& gamma, const DeviceWeight& beta, float eps,
                            bool silu) override {
    if (!x.storage() || x.storage().use_count() != 1) return group_norm(x, groups, gamma, beta, eps, silu);
    // Statistics first, then an elementwise pass: reading and writing the same pixel is safe.
    group_norm_into(x, x, groups, gamma, beta, eps, silu);
    return x;
  }

  Tensor layer_norm(const Tensor& x, const DeviceWeight& gamma, const DeviceWeight& beta, float eps) override {
    check_host_f32(x, "layer_norm");
    Tensor y = empty(x.shape());
    cpu::layer_norm(x.data<float>(), y.data<float>(), rows_of(x), x.dim(-1), gamma.tensor.data<float>(),
                    beta.tensor.data<float>(), eps);
    return y;
  }

  Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int heads, float scale, bool causal) override {
    check_host_f32(q, "attention");
    SD_CHECK(q.ndim() == 3 && k.ndim() == 3 && v.ndim() == 3 && k.shape() == v.shape() && q.dim(0) == k.dim(0) &&
                 q.dim(2) == k.dim(2) && q.dim(2) % heads == 0,
             "attention: incompatible q ", q.describe(), ", k ", k.describe(), ", v ", v.describe());
    const int64_t c = q.dim(2);
    Tensor y = empty(q.shape());
    cpu::attention(q.data<float>(), c, k.data<float>(), c, v.data<float>(), c, y.data<float>(), c, q.dim(0), q.dim(1),
                   k.dim(1), heads, c / heads, scale, causal, bf16_);
    return y;
  }

  Tensor silu(const Tensor& x) override {
    Tensor y = empty(x.shape());
    cpu::silu(x.data<float>(), y.data<float>(), x.numel());
    return y;
  }
  Tensor gelu(const Tensor& x) override {
    Tensor y = empty(x.shape());
    cpu::gelu(x.data<float>(), y.data<float>(), x.numel());
    return y;
  }
  Tensor quick_gelu(const Tensor& x) override {
    Tensor y = empty(x.shape());
    cpu::quick_gelu(x.data<float>(), y.data<float>(), x.numel());
    return y;
  }
  Tensor geglu(const Tensor& x) override {
    Shape s = x.shape();
    SD_CHECK(s.back() % 2 == 0, "geglu: odd feature count");
    s.back() /= 2;
    Tensor y = empty(s);
    cpu::geglu(x.data<float>(), y.data<float>(), rows_of(x), s.back());
    return y;
  }
  Tensor add(const Tensor& a, const Tensor& b) override {
    SD_CHECK(a.shape() == b.shape(), "add: ", a.describe(), " vs ", b.describe());
    Tensor y = empty(a.shape());
    cpu::add(a.data<float>(), b.data<float>(), y.data<float>(), a.numel());
    return y;
  }
  void add_channel_vector(Tensor& x, const Tensor& v) override {
    const int64_t b = x.dim(0), c = x.dim(-1);
    SD_CHECK(v.numel() == b * c, "add_channel_vector: ", v.describe(), " for ", x.describe());
    cpu::add_channel_vector(x.data<float>(), v.data<float>(), b, x.numel() / (b * c), c);
  }
  Tensor upsample_nearest(const Tensor& x, int64_t out_h, int64_t out_w) override {
    SD_CHECK(x.ndim() == 4, "upsample: expected [B, H, W, C]");
    Tensor y = empty({x.dim(0), out_h, out_w, x.dim(3)});
    cpu::upsample_nearest(x.data<float>(), y.data<float>(), x.dim(0), x.dim(1), x.dim(2), x.dim(3), out_h, out_w);
    return y;
  }
  Tensor concat_channels(const Tensor& a, const Tensor& b) override {
    SD_CHECK(a.numel() / a.dim(-1) == b.numel() / b.dim(-1), "concat: ", a.describe(), " vs ", b.describe());
    Shape s = a.shape();
    s.back() = a.dim(-1) + b.dim(-1);
    Tensor y = empty(s);
    cpu::concat_channels(a.data<float>(), a.dim(-1), b.data<float>(), b.dim(-1), y.data<float>(), rows_of(a));
    return y;
  }
  Tensor embedding(const Tensor& ids, const DeviceWeight& table) override {
    SD_CHECK(ids.dtype() == DType::I32, "embedding: ids must be I32");
    const int64_t rows = table.tensor.dim(0), width = table.tensor.dim(1);
    Shape s = ids.shape();
    s.push_back(width);
    Tensor y = empty(s);
    const int32_t* id = ids.data<int32_t>();
    const float* t = table.tensor.data<float>();
    for (int64_t i = 0; i < ids.numel(); ++i) {
      SD_CHECK(id[i] >= 0 && id[i] < rows, "token id ", id[i], " is outside the vocabulary of ", rows);
      std::memcpy(y.data<float>() + i * width, t + static_cast<int64_t>(id[i]) * width, static_cast<size_t>(width) * 4);
    }
    return y;
  }
  Tensor nchw_to_nhwc(const Tensor& x) override {
    SD_CHECK(x.ndim() == 4, "nchw_to_nhwc: expected 4 dimensions");
    Tensor y = empty({x.dim(0), x.dim(2), x.dim(3), x.dim(1)});
    cpu::nchw_to_nhwc(x.data<float>(), y.data<float>(), x.dim(0), x.dim(1), x.dim(2) * x.dim(3));
    return y;
  }
  Tensor nhwc_to_nchw(const Tensor& x) override {
    SD_CHECK(x.ndim() == 4, "nhwc_to_nchw: expected 4 dimensions");
    Tensor y = empty({x.dim(0), x.dim(3), x.dim(1), x.dim(2)});
    cpu::nhwc_to_nchw(x.data<float>(), y.data<float>(), x.dim(0), x.dim(1) * x.dim(2), x.dim(3));
    return y;
  }

 private:
  void group_norm_into(const Tensor& x, Tensor& y, int groups, const DeviceWeight& gamma, const DeviceWeight& beta,
                       float eps, bool silu) {
    check_host_f32(x, "group_norm");
    const int64_t c = x.dim(-1), b = x.dim(0);
    cpu::group_norm(x.data<float>(), y.data<float>(), b, x.numel() / (b * c), c, groups, gamma.tensor.data<float>(),
                    beta.tensor.data<float>(), eps, silu);
  }

  bool bf16_ = false;
  bool winograd_ = true;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& options) { return std::make_unique<CpuBackend>(options); }

#ifndef SD_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(int, const BackendOptions&) {
  fail("this build has no CUDA backend: rebuild with the CUDA toolkit installed (sd-setup build), or use the CPU");
}
bool cuda_available(std::string* why_not) {
  if (why_not) *why_not = "built without CUDA";
  return false;
}
#endif

}  // namespace sd
