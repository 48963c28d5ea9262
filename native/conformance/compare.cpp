#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "conformance/conformance.h"

namespace sd {

namespace {

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  const size_t n = out.size();
  switch (t.dtype()) {
    case DType::F64: {
      const double* p = t.data<double>();
      for (size_t i = 0; i < n; ++i) out[i] = p[i];
      break;
    }
    case DType::I64: {
      const int64_t* p = t.data<int64_t>();
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(p[i]);
      break;
    }
    default: {
      std::vector<float> f(n);
      convert_to_f32(t.dtype(), t.raw(), f.data(), n);
      for (size_t i = 0; i < n; ++i) out[i] = f[i];
    }
  }
  return out;
}

}  // namespace

OutputCheck compare_tensors(const std::string& output, const Tensor& actual, const Tensor& expected,
                            const Json& tolerance) {
  OutputCheck c;
  c.output = output;
  if (actual.shape() != expected.shape()) {
    c.note = concat("shape ", shape_str(actual.shape()), " != expected ", shape_str(expected.shape()));
    c.max_abs = INFINITY;
    c.rel_l2 = INFINITY;
    return c;
  }
  const std::vector<double> a = to_doubles(actual.device() == Device::CPU ? actual : actual);
  const std::vector<double> e = to_doubles(expected);
  double max_abs = 0, diff2 = 0, ref2 = 0;
  size_t mismatches = 0;
  bool nan = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(e[i])) nan = true;
    const double d = std::fabs(a[i] - e[i]);
    if (d > max_abs || std::isnan(d)) max_abs = std::isnan(d) ? INFINITY : d;
    diff2 += d * d;
    ref2 += e[i] * e[i];
    if (d != 0) ++mismatches;
  }
  c.max_abs = max_abs;
  c.rel_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  c.mismatch_fraction = a.empty() ? 0 : static_cast<double>(mismatches) / static_cast<double>(a.size());
  if (nan) {
    c.note = "NaN where the reference has a number";
    return c;
  }
  if (const Json* exact = tolerance.find("exact"); exact && exact->is_bool() && exact->as_bool()) {
    c.passed = mismatches == 0;
    c.ratio = c.passed ? 0 : INFINITY;
    c.note = c.passed ? "exact" : concat(mismatches, " of ", a.size(), " values differ");
    return c;
  }
  const Json* tol_abs = tolerance.find("max_abs");
  if (const Json* frac = tolerance.find("max_mismatch_fraction")) {
    const double allowed_abs = tol_abs ? tol_abs->as_number() : 1;
    c.passed = max_abs <= allowed_abs && c.mismatch_fraction <= frac->as_number();
    c.ratio = std::max(max_abs / allowed_abs, frac->as_number() > 0 ? c.mismatch_fraction / frac->as_number() : 0.0);
    c.note = concat("mismatch fraction ", c.mismatch_fraction, " (allowed ", frac->as_number(), ")");
    return c;
  }
  const Json* tol_rel = tolerance.find("rel_l2");
  const bool abs_ok = !tol_abs || max_abs <= tol_abs->as_number();
  const bool rel_ok = !tol_rel || c.rel_l2 <= tol_rel->as_number();
  c.passed = abs_ok && rel_ok && (tol_abs || tol_rel);
  c.ratio = std::max(tol_abs ? max_abs / tol_abs->as_number() : 0.0, tol_rel ? c.rel_l2 / tol_rel->as_number() : 0.0);
  if (!tol_abs && !tol_rel) c.note = "no tolerance in the manifest";
  else if (!c.passed)
    c.note = concat("allowed max_abs ", tol_abs ? tol_abs->as_number() : INFINITY, ", rel_l2 ",
                    tol_rel ? tol_rel->as_number() : INFINITY);
  return c;
}

}  // namespace sd
