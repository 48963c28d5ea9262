// sd-driver check-ops: the CPU kernels that have several implementations
// (attention's drivers, convolution over an upsampled input, GroupNorm and
// its in-place form, LayerNorm, the fp32 3x3 convolution, Winograd or direct) against float64 references or the path they replace, on
// odd shapes that exercise every tile edge. One JSON object per case on
// stdout; exit 1 if any fails. The tests run it once per instruction-set
// override (SD_GEMM_KERNEL, SD_AMX) so every driver the CPU has is covered.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/half.h"
#include "core/json.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/vec_dispatch.h"
#include "ops/cpu/winograd.h"

namespace sd {

namespace {

std::vector<float> random_values(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

struct Difference {
  double rel_l2 = 0, max_abs = 0;
};

Difference compare(const float* got, const std::vector<double>& want) {
  double d2 = 0, r2 = 0, mx = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = got[i] - want[i];
    d2 += d * d;
    r2 += want[i] * want[i];
    mx = std::max(mx, std::fabs(d));
  }
  return {std::sqrt(d2 / std::max(r2, 1e-300)), mx};
}

struct AttentionCase {
  const char* name;
  int64_t batch, nq, nk;
  int heads;
  int64_t dim;
  bool causal;
};

std::vector<double> reference_attention(const AttentionCase& c, const std::vector<float>& q, const std::vector<float>& k,
                                        const std::vector<float>& v, float scale) {
  const int64_t width = c.heads * c.dim;
  std::vector<double> out(static_cast<size_t>(c.batch * c.nq * width));
  std::vector<double> p(static_cast<size_t>(c.nk));
  for (int64_t b = 0; b < c.batch; ++b)
    for (int h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.nq; ++i) {
        const int64_t visible = c.causal ? std::min(c.nk, i + 1) : c.nk;
        double mx = -1e300;
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.dim; ++d)
            dot += static_cast<double>(q[static_cast<size_t>((b * c.nq + i) * width + h * c.dim + d)]) *
                   k[static_cast<size_t>((b * c.nk + j) * width + h * c.dim + d)];
          p[static_cast<size_t>(j)] = dot * scale;
          mx = std::max(mx, p[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j) sum += p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx);
        for (int64_t d = 0; d < c.dim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < visible; ++j)
            acc += p[static_cast<size_t>(j)] * v[static_cast<size_t>((b * c.nk + j) * width + h * c.dim + d)];
          out[static_cast<size_t>((b * c.nq + i) * width + h * c.dim + d)] = acc / sum;
        }
      }
  return out;
}

void report(bool& all_passed, const std::string& op, const std::string& name, const std::string& driver,
            const Difference& diff, double tolerance) {
  const bool pass = diff.rel_l2 <= tolerance && std::isfinite(diff.rel_l2);
  all_passed = all_passed && pass;
  Json line = Json::object();
  line.set("op", Json::string(op));
  line.set("case", Json::string(name));
  line.set("driver", Json::string(driver));
  line.set("rel_l2", Json::number(diff.rel_l2));
  line.set("max_abs", Json::number(diff.max_abs));
  line.set("tolerance", Json::number(tolerance));
  line.set("pass", Json::boolean(pass));
  std::printf("%s\n", line.dump().c_str());
}

void check_attention(bool& all_passed) {
  // SD's heads are 40, 80 and 160 wide (UNet), 64 (CLIP) and 512 (VAE); the
  // others hit the 1-, 2- and 3-vector tiles and masked last lanes.
  const AttentionCase cases[] = {
      {"unet-self d40", 2, 300, 300, 2, 40, false},   {"unet-cross d40 nk77", 2, 200, 77, 8, 40, false},
      {"unet-self d80", 1, 150, 150, 2, 80, false},   {"unet-self d160", 1, 100, 64, 2, 160, false},
      {"clip causal d64", 1, 77, 77, 12, 64, true},   {"vae d512", 1, 256, 256, 1, 512, false},
      {"d8", 1, 33, 19, 3, 8, false},                  {"d24", 1, 45, 50, 2, 24, false},
      {"d48 causal", 1, 90, 90, 2, 48, true},          {"d100", 1, 71, 130, 1, 100, false},
      {"one query one key", 1, 1, 1, 1, 40, false},
      // Keys beyond one chunk of the bf16 driver's online softmax (512), the
      // causal one with rows whose last visible key falls in every chunk.
      {"long keys d40", 1, 130, 1100, 2, 40, false},  {"long causal d64", 1, 1100, 1100, 1, 64, true},
  };
  for (const bool bf16 : {false, true}) {
    for (const AttentionCase& c : cases) {
      const int64_t width = c.heads * c.dim;
      const std::vector<float> q = random_values(c.batch * c.nq * width, 1, 1.0f);
      const std::vector<float> k = random_values(c.batch * c.nk * width, 2, 1.0f);
      const std::vector<float> v = random_values(c.batch * c.nk * width, 3, 1.0f);
      const float scale = 1.0f / std::sqrt(static_cast<float>(c.dim));
      std::vector<float> out(static_cast<size_t>(c.batch * c.nq * width), std::nanf(""));
      cpu::attention(q.data(), width, k.data(), width, v.data(), width, out.data(), width, c.batch, c.nq, c.nk, c.heads,
                     c.dim, scale, c.causal, bf16);
      // bf16 rounds q, k, the probabilities and v to 8-bit mantissas (2^-9 relative each).
      report(all_passed, bf16 ? "attention-bf16" : "attention", c.name, cpu::attention_driver(bf16),
             compare(out.data(), reference_attention(c, q, k, v, scale)), bf16 ? 2e-2 : 2e-6);
    }
  }
}

// Convolution over a nearest-upsampled input, the upsampling done on the fly,
// against the upsampled image made first: the same products in the same order.
void check_upsampled_conv(bool& all_passed) {
  for (const DType storage : {DType::F32, DType::F16, DType::BF16}) {
    BackendOptions options;
    options.bf16_compute = storage == DType::BF16;
    auto backend = make_cpu_backend(options);
    const int64_t cin = 64, cout = 40;
    const std::vector<float> xv = random_values(2 * 5 * 7 * cin, 4, 1.0f);
    const std::vector<float> wv = random_values(cout * cin * 9, 5, 0.1f);
    const std::vector<float> bv = random_values(cout, 6, 0.1f);
    const Tensor x = Tensor::from_floats(xv, {2, 5, 7, cin});
    const DeviceWeight w = backend->prepare_weight("w", Tensor::from_floats(wv, {cout, cin, 3, 3}), WeightKind::Conv, storage);
    const DeviceWeight b = backend->prepare_weight("b", Tensor::from_floats(bv, {cout}), WeightKind::Vector, DType::F32);
    const Tensor fused = backend->conv2d(x, w, &b, Conv2dParams::same(3).upsampled(2));
    const Tensor made = backend->conv2d(backend->upsample_nearest2x(x), w, &b, Conv2dParams::same(3));
    std::vector<double> want(made.data<float>(), made.data<float>() + made.numel());
    const bool same_shape = fused.shape() == made.shape();
    Difference d = same_shape ? compare(fused.data<float>(), want) : Difference{1e9, 1e9};
    report(all_passed, "conv-upsampled", concat("3x3 ", cin, "->", cout, " 5x7 x2"), dtype_name(storage), d, 0.0);
  }
}

// A 3x3 "same" convolution of x [batch, h, w, cin] (read upsampled by `up`,
// nearest) with kernel wv [cout, cin, 3, 3], summed in double.
std::vector<double> reference_conv3x3(const std::vector<float>& xv, const std::vector<float>& wv, int64_t batch,
                                      int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t up) {
  const int64_t oh = h * up, ow = w * up;
  std::vector<double> out(static_cast<size_t>(batch * oh * ow * cout), 0.0);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t co = 0; co < cout; ++co) {
          double acc = 0;
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx) {
              const int64_t iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy < 0 || iy >= oh || ix < 0 || ix >= ow) continue;
              const float* px = xv.data() + ((n * h + iy / up) * w + ix / up) * cin;
              const float* wp = wv.data() + (co * cin * 3 + ky) * 3 + kx;
              for (int64_t ci = 0; ci < cin; ++ci) acc += static_cast<double>(px[ci]) * wp[ci * 9];
            }
          out[static_cast<size_t>(((n * oh + oy) * ow + ox) * cout + co)] = acc;
        }
  return out;
}

// The fp32 3x3 convolution (Winograd F(4x4, 3x3) where it applies, else the
// direct one) against float64 sums, with bias and residual. The shapes reach
// every edge of the Winograd driver: output sizes that are not multiples of 4,
// two K-blocks (208 channels), a weight group of one panel (80 outputs), a
// partial block of tiles, an upsampled input, and more tiles than one pass of
// its transformed-input buffer holds (1024 channels, 60x60). Rounding grows
// with the channel count; Winograd's was measured at 2-4x the direct sum's
// (rel_l2 6.1e-6 against 1.7e-6 at 1024 channels).
void check_conv_f32(bool& all_passed) {
  struct Case {
    int64_t batch, h, w, cin, cout, up;
    DType storage;
  };
  const Case cases[] = {{2, 10, 14, 208, 80, 1, DType::F32}, {2, 10, 14, 208, 80, 1, DType::F16},
                        {2, 5, 7, 64, 48, 2, DType::F16}, {1, 60, 60, 1024, 16, 1, DType::F16}};
  for (const bool use_winograd : {true, false}) {
    BackendOptions options;
    options.winograd = use_winograd;
    auto backend = make_cpu_backend(options);
    for (const Case& c : cases) {
      const int64_t oh = c.h * c.up, ow = c.w * c.up;
      const std::vector<float> xv = random_values(c.batch * c.h * c.w * c.cin, 21, 1.0f);
      std::vector<float> wv = random_values(c.cout * c.cin * 9, 22, 0.05f);
      const std::vector<float> bv = random_values(c.cout, 23, 0.1f);
      const std::vector<float> rv = random_values(c.batch * oh * ow * c.cout, 24, 1.0f);
      if (c.storage == DType::F16)
        for (float& v : wv) v = half_to_float(float_to_half(v));
      const DeviceWeight w = backend->prepare_weight("w", Tensor::from_floats(wv, {c.cout, c.cin, 3, 3}), WeightKind::Conv, c.storage);
      const DeviceWeight b = backend->prepare_weight("b", Tensor::from_floats(bv, {c.cout}), WeightKind::Vector, DType::F32);
      Conv2dParams params = Conv2dParams::same(3);
      if (c.up > 1) params = params.upsampled(static_cast<int>(c.up));
      const Tensor residual = Tensor::from_floats(rv, {c.batch, oh, ow, c.cout});
      const Tensor y = backend->conv2d(Tensor::from_floats(xv, {c.batch, c.h, c.w, c.cin}), w, &b, params, &residual);
      std::vector<double> want = reference_conv3x3(xv, wv, c.batch, c.h, c.w, c.cin, c.cout, c.up);
      for (size_t i = 0; i < want.size(); ++i) want[i] += bv[i % static_cast<size_t>(c.cout)] + double{rv[i]};
      const bool winograd = use_winograd && winograd_enabled();
      report(all_passed, "conv-f32",
             concat("3x3 ", c.cin, "->", c.cout, " ", c.batch, "x", c.h, "x", c.w, c.up > 1 ? " x2 " : " ", dtype_name(c.storage)),
             winograd ? "winograd-f4x4" : gemm_kernel_name(), compare(y.data<float>(), want), winograd ? 1e-5 : 2e-6);
    }
  }
}

// A bf16 convolution against float64 arithmetic on the same bf16-rounded
// image and kernel, so only the summation order differs. 70 pixels across:
// 32-row blocks inside the picture read the image in place (AMX), the ones
// touching its left or right edge read a gathered copy.
void check_conv_bf16(bool& all_passed) {
  BackendOptions options;
  options.bf16_compute = true;
  auto backend = make_cpu_backend(options);
  const int64_t batch = 2, h = 9, w = 70, cin = 64, cout = 40;
  std::vector<float> xv = random_values(batch * h * w * cin, 13, 1.0f), wv = random_values(cout * cin * 9, 14, 0.1f);
  for (float& v : xv) v = bf16_to_float(float_to_bf16(v));
  for (float& v : wv) v = bf16_to_float(float_to_bf16(v));
  const DeviceWeight weight = backend->prepare_weight("w", Tensor::from_floats(wv, {cout, cin, 3, 3}), WeightKind::Conv, DType::BF16);
  const Tensor y = backend->conv2d(Tensor::from_floats(xv, {batch, h, w, cin}), weight, nullptr, Conv2dParams::same(3));
  const std::vector<double> want = reference_conv3x3(xv, wv, batch, h, w, cin, cout, 1);
  report(all_passed, "conv-bf16", "3x3 64->40 9x70", gemm_kernel_name(), compare(y.data<float>(), want), 1e-6);
}

// GroupNorm that may overwrite its input: bit-identical to the copying one,
// in place only when nothing else holds the input.
void check_group_norm_consume(bool& all_passed) {
  auto backend = make_cpu_backend();
  const int64_t c = 64;
  const std::vector<float> xv = random_values(2 * 9 * 11 * c, 7, 2.0f);
  const DeviceWeight gamma = backend->prepare_weight("g", Tensor::from_floats(random_values(c, 8, 1.0f), {c}), WeightKind::Vector, DType::F32);
  const DeviceWeight beta = backend->prepare_weight("b", Tensor::from_floats(random_values(c, 9, 1.0f), {c}), WeightKind::Vector, DType::F32);
  const Tensor x = Tensor::from_floats(xv, {2, 9, 11, c});
  const Tensor copied = backend->group_norm(x, 32, gamma, beta, 1e-6f, true);
  std::vector<double> want(copied.data<float>(), copied.data<float>() + copied.numel());

  Tensor shared = x.clone_host();
  const Tensor held = shared;  // a second owner: the input must survive
  const Tensor from_shared = backend->group_norm_consume(shared, 32, gamma, beta, 1e-6f, true);
  const bool kept = std::equal(held.data<float>(), held.data<float>() + held.numel(), xv.begin()) && from_shared.raw() != held.raw();
  report(all_passed, "group-norm-consume", "shared input kept", "cpu", kept ? compare(from_shared.data<float>(), want) : Difference{1e9, 1e9}, 0.0);

  Tensor owned = x.clone_host();
  const void* storage = owned.raw();
  const Tensor in_place = backend->group_norm_consume(std::move(owned), 32, gamma, beta, 1e-6f, true);
  const bool reused = in_place.raw() == storage;
  report(all_passed, "group-norm-consume", "sole owner normalised in place", "cpu",
         reused ? compare(in_place.data<float>(), want) : Difference{1e9, 1e9}, 0.0);
}

// GroupNorm (+SiLU) against float64 arithmetic; 36 channels leave a partial
// vector in the channel sums, 37 pixels a partial block of 16.
void check_group_norm(bool& all_passed) {
  auto backend = make_cpu_backend();
  for (const int64_t channels : {int64_t{96}, int64_t{36}}) {
    const int64_t batch = 2, pixels = 37, groups = channels == 96 ? 32 : 12;
    const std::vector<float> xv = random_values(batch * pixels * channels, 15, 2.0f);
    const std::vector<float> gv = random_values(channels, 16, 1.0f), bv = random_values(channels, 17, 1.0f);
    const DeviceWeight gamma = backend->prepare_weight("g", Tensor::from_floats(gv, {channels}), WeightKind::Vector, DType::F32);
    const DeviceWeight beta = backend->prepare_weight("b", Tensor::from_floats(bv, {channels}), WeightKind::Vector, DType::F32);
    const Tensor y = backend->group_norm(Tensor::from_floats(xv, {batch, pixels, channels}), static_cast<int>(groups), gamma, beta, 1e-6f, true);
    std::vector<double> want(xv.size());
    const int64_t per = channels / groups;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        double mean = 0, var = 0;
        for (int64_t p = 0; p < pixels; ++p)
          for (int64_t c = g * per; c < (g + 1) * per; ++c) mean += xv[static_cast<size_t>((n * pixels + p) * channels + c)];
        mean /= static_cast<double>(pixels * per);
        for (int64_t p = 0; p < pixels; ++p)
          for (int64_t c = g * per; c < (g + 1) * per; ++c) var += std::pow(xv[static_cast<size_t>((n * pixels + p) * channels + c)] - mean, 2);
        const double rstd = 1.0 / std::sqrt(var / static_cast<double>(pixels * per) + 1e-6);
        for (int64_t p = 0; p < pixels; ++p)
          for (int64_t c = g * per; c < (g + 1) * per; ++c) {
            const size_t i = static_cast<size_t>((n * pixels + p) * channels + c);
            const double v = (xv[i] - mean) * rstd * gv[static_cast<size_t>(c)] + bv[static_cast<size_t>(c)];
            want[i] = v / (1.0 + std::exp(-v));
          }
      }
    report(all_passed, "group-norm-silu", concat(batch, "x", pixels, "x", channels, " groups ", groups), "cpu",
           compare(y.data<float>(), want), 1e-6);
  }
}

// The exp-based element loops (AVX-512, AVX2+FMA or scalar: the instruction
// set of the GEMM kernel in use) against libm in double, over lengths that end
// in every partial vector and inputs from the saturated ends to zero.
void check_element_loops(bool& all_passed) {
  const char* driver = gemm_kernel_name();  // the element loops follow the GEMM kernel's instruction set
  for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{13}, int64_t{1000}}) {
    std::vector<float> x = random_values(n, 31, 4.0f);
    if (n > 2) x[0] = -30.0f, x[1] = 25.0f;
    std::vector<float> gate = random_values(n, 32, 3.0f), y(static_cast<size_t>(n));
    std::vector<double> want(static_cast<size_t>(n));
    const auto gelu = [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); };
    silu_rows(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) want[static_cast<size_t>(i)] = x[static_cast<size_t>(i)] / (1.0 + std::exp(-double{x[static_cast<size_t>(i)]}));
    report(all_passed, "silu", concat(n), driver, compare(y.data(), want), 1e-6);
    gelu_rows(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) want[static_cast<size_t>(i)] = gelu(x[static_cast<size_t>(i)]);
    // For negative inputs 1 + erf(x) cancels: up to ~2e-6 relative on a single
    // value, the same in the scalar formula (vec_math.h).
    report(all_passed, "gelu", concat(n), driver, compare(y.data(), want), 5e-6);
    geglu_row(x.data(), gate.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) want[static_cast<size_t>(i)] = x[static_cast<size_t>(i)] * gelu(gate[static_cast<size_t>(i)]);
    report(all_passed, "geglu", concat(n), driver, compare(y.data(), want), 5e-6);
    // Softmax over the first n - 2 entries of a row of n (the rest masked to 0).
    const int64_t visible = std::max<int64_t>(1, n - 2);
    std::vector<float> row = x;
    softmax_row(row.data(), visible, n, 0.125f);
    double mx = -1e300, sum = 0;
    for (int64_t i = 0; i < visible; ++i) mx = std::max(mx, 0.125 * x[static_cast<size_t>(i)]);
    for (int64_t i = 0; i < visible; ++i) sum += std::exp(0.125 * x[static_cast<size_t>(i)] - mx);
    for (int64_t i = 0; i < n; ++i)
      want[static_cast<size_t>(i)] = i < visible ? std::exp(0.125 * x[static_cast<size_t>(i)] - mx) / sum : 0.0;
    report(all_passed, "softmax", concat(n), driver, compare(row.data(), want), 1e-6);
  }
}

// LayerNorm (vectorised where the CPU allows) against float64 arithmetic,
// on widths with and without a partial last vector.
void check_layer_norm(bool& all_passed) {
  for (const int64_t width : {int64_t{320}, int64_t{768}, int64_t{77}}) {
    const int64_t rows = 9;
    const std::vector<float> x = random_values(rows * width, 10, 3.0f), gamma = random_values(width, 11, 1.0f),
                             beta = random_values(width, 12, 1.0f);
    std::vector<float> y(static_cast<size_t>(rows * width));
    cpu::layer_norm(x.data(), y.data(), rows, width, gamma.data(), beta.data(), 1e-5f);
    std::vector<double> want(y.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < width; ++c) mean += x[static_cast<size_t>(r * width + c)];
      mean /= static_cast<double>(width);
      for (int64_t c = 0; c < width; ++c) var += std::pow(x[static_cast<size_t>(r * width + c)] - mean, 2);
      const double rstd = 1.0 / std::sqrt(var / static_cast<double>(width) + 1e-5);
      for (int64_t c = 0; c < width; ++c)
        want[static_cast<size_t>(r * width + c)] = (x[static_cast<size_t>(r * width + c)] - mean) * rstd * gamma[static_cast<size_t>(c)] + beta[static_cast<size_t>(c)];
    }
    report(all_passed, "layer-norm", concat(rows, "x", width), "cpu", compare(y.data(), want), 1e-6);
  }
}

}  // namespace

int check_ops_main(int, char**) {
  bool all_passed = true;
  check_attention(all_passed);
  check_upsampled_conv(all_passed);
  check_conv_bf16(all_passed);
  check_conv_f32(all_passed);
  check_group_norm_consume(all_passed);
  check_group_norm(all_passed);
  check_layer_norm(all_passed);
  check_element_loops(all_passed);
  return all_passed ? 0 : 1;
}

}  // namespace sd
