#include "text/emphasis.h"

#include "core/error.h"

namespace sd {

EmphasisMode parse_emphasis_mode(std::string_view name) {
  if (name == "Original") return EmphasisMode::Original;
  if (name == "No norm") return EmphasisMode::NoNorm;
  if (name == "Ignore") return EmphasisMode::Ignore;
  if (name == "None") return EmphasisMode::None;
  fail("unknown emphasis mode \"", name, "\" (use Original, No norm, Ignore or None)");
}

const char* emphasis_mode_name(EmphasisMode mode) {
  switch (mode) {
    case EmphasisMode::Original: return "Original";
    case EmphasisMode::NoNorm: return "No norm";
    case EmphasisMode::Ignore: return "Ignore";
    case EmphasisMode::None: return "None";
  }
  return "?";
}

namespace {

// torch's mean of a float32 tensor is a float32; the sum is kept in double
// here, which is at least as accurate as torch's cascaded float sum.
float mean_of(const float* z, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += z[i];
  return static_cast<float>(sum / static_cast<double>(n));
}

}  // namespace

void apply_emphasis(float* z, int64_t rows, int64_t hidden, const double* weights, EmphasisMode mode,
                    int64_t chunk_rows) {
  if (mode == EmphasisMode::Ignore || mode == EmphasisMode::None) return;
  SD_CHECK(chunk_rows > 0 && rows % chunk_rows == 0, "emphasis: ", rows, " rows are not whole chunks of ", chunk_rows);
  for (int64_t chunk = 0; chunk < rows / chunk_rows; ++chunk) {
    float* zc = z + chunk * chunk_rows * hidden;
    const int64_t n = chunk_rows * hidden;
    const float original_mean = mode == EmphasisMode::Original ? mean_of(zc, n) : 0.0f;
    for (int64_t r = 0; r < chunk_rows; ++r) {
      // The webui's multipliers are a float32 tensor made from Python floats.
      const float w = static_cast<float>(weights[chunk * chunk_rows + r]);
      float* row = zc + r * hidden;
      for (int64_t h = 0; h < hidden; ++h) row[h] *= w;
    }
    if (mode != EmphasisMode::Original) continue;
    const float new_mean = mean_of(zc, n);
    if (new_mean == 0.0f) continue;
    const float scale = original_mean / new_mean;
    for (int64_t i = 0; i < n; ++i) zc[i] *= scale;
  }
}

void apply_emphasis(Tensor& z, const std::vector<double>& weights, EmphasisMode mode, int64_t chunk_rows) {
  SD_CHECK(z.device() == Device::CPU && z.dtype() == DType::F32 && z.ndim() >= 2,
           "emphasis needs a host F32 tensor [rows, hidden], got ", z.describe());
  const int64_t hidden = z.dim(-1);
  const int64_t rows = z.numel() / hidden;
  SD_CHECK(static_cast<int64_t>(weights.size()) == rows, "emphasis: ", weights.size(), " weights for ", rows,
           " encoder rows");
  apply_emphasis(z.data<float>(), rows, hidden, weights.data(), mode, chunk_rows);
}

}  // namespace sd
