#include "conformance/conformance.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "conformance/resources.h"
#include "io/safetensors.h"

namespace sd {

const char* status_name(CaseResult::Status s) {
  switch (s) {
    case CaseResult::Status::Passed: return "PASS";
    case CaseResult::Status::Failed: return "FAIL";
    case CaseResult::Status::NotImplemented: return "FAIL";
    case CaseResult::Status::Error: return "FAIL";
  }
  return "?";
}

struct FixtureDir::Cases {
  std::unique_ptr<SafetensorsFile> file;
};

namespace {
std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SD_CHECK(in.good(), "cannot read ", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string join_path(const std::string& dir, const std::string& rel) {
  if (rel.empty() || rel[0] == '/' || dir.empty()) return rel;
  return dir.back() == '/' ? dir + rel : dir + "/" + rel;
}
}  // namespace

FixtureDir::FixtureDir(std::string dir) : dir_(std::move(dir)), cases_(std::make_unique<Cases>()) {
  const std::string manifest_path = join_path(dir_, "manifest.json");
  manifest_ = Json::parse(read_text_file(manifest_path));
  SD_CHECK(manifest_.is_object() && manifest_.has("cases"), manifest_path, " has no \"cases\" list");
  cases_->file = std::make_unique<SafetensorsFile>(file("cases"));
}

FixtureDir::~FixtureDir() = default;

std::string FixtureDir::file(const std::string& role) const {
  const Json* files = manifest_.find("files");
  const Json* f = files ? files->find(role) : nullptr;
  if (f && f->is_string()) return join_path(dir_, f->as_string());
  if (role == "cases") return join_path(dir_, "cases.safetensors");
  fail("manifest.json names no file for \"", role, "\"");
}

bool FixtureDir::has_tensor(const std::string& key) const { return cases_->file->find(key) != nullptr; }

Tensor FixtureDir::tensor(const std::string& key) const {
  SD_CHECK(has_tensor(key), "cases.safetensors has no tensor \"", key, "\"");
  return cases_->file->view(key);
}

CaseContext::CaseContext(const Json& spec, const FixtureDir& fixtures, Resources& resources,
                         const ConformanceOptions& options, CaseResult& result)
    : spec_(spec), fixtures_(fixtures), resources_(resources), options_(options), result_(result) {}

const std::string& CaseContext::name() const { return result_.name; }

bool CaseContext::has_input(const std::string& role) const {
  const Json* inputs = spec_.find("inputs");
  return inputs && inputs->find(role);
}

Tensor CaseContext::input(const std::string& role) const {
  const Json* inputs = spec_.find("inputs");
  const Json* key = inputs ? inputs->find(role) : nullptr;
  SD_CHECK(key && key->is_string(), "case ", name(), " has no input \"", role, "\"");
  return fixtures_.tensor(key->as_string());
}

const Json* CaseContext::find_param(const std::string& key) const {
  const Json* params = spec_.find("params");
  return params ? params->find(key) : nullptr;
}

const Json& CaseContext::param(const std::string& key) const {
  const Json* p = find_param(key);
  SD_CHECK(p != nullptr, "case ", name(), " has no parameter \"", key, "\"");
  return *p;
}

bool CaseContext::has_expected(const std::string& output) const {
  const Json* expected = spec_.find("expected");
  return expected && expected->find(output);
}

Tensor CaseContext::expected(const std::string& output) const {
  const Json* expected = spec_.find("expected");
  const Json* key = expected ? expected->find(output) : nullptr;
  SD_CHECK(key && key->is_string(), "case ", name(), " expects no output \"", output, "\"");
  return fixtures_.tensor(key->as_string());
}

namespace {

bool is_tolerance_object(const Json& j) {
  return j.is_object() && (j.has("max_abs") || j.has("rel_l2") || j.has("exact") || j.has("max_mismatch_fraction"));
}

const Json& tolerance_for(const Json& tolerances, const std::string& output) {
  static const Json none = Json::object();
  if (!tolerances.is_object()) return none;
  if (const Json* t = tolerances.find(output)) return *t;
  if (is_tolerance_object(tolerances)) return tolerances;
  return none;
}

}  // namespace

void CaseContext::check(const std::string& output, const Tensor& actual) {
  const Json* tolerances = spec_.find("tolerance");
  const Json& manifest_tol = tolerance_for(tolerances ? *tolerances : Json(), output);
  Json override_tol = Json::object();
  override_tol.set("rel_l2", Json::number(options_.rel_tolerance_override));
  const Json* exact = manifest_tol.find("exact");
  const bool use_override = options_.rel_tolerance_override > 0 && !(exact && exact->is_bool() && exact->as_bool());
  const Json& tol = use_override ? override_tol : manifest_tol;
  OutputCheck primary = compare_tensors(output, actual, expected(output), tol);
  if (!primary.passed) {
    // The manifest may list other accepted results (e.g. torch's scalar randn path).
    const Json* expected_outputs = spec_.find("expected");
    const size_t n_outputs = expected_outputs && expected_outputs->is_object() ? expected_outputs->as_object().size() : 0;
    if (const Json* params = spec_.find("params"); params && params->is_object()) {
      for (const auto& [key, value] : params->as_object()) {
        if (key.rfind("alternate_", 0) != 0) continue;
        const Json* alt = nullptr;
        if (value.is_string() && n_outputs == 1) alt = &value;
        else if (value.is_object()) alt = value.find(output);
        if (!alt || !alt->is_string() || !fixtures_.has_tensor(alt->as_string())) continue;
        OutputCheck c = compare_tensors(output, actual, fixtures_.tensor(alt->as_string()), tol);
        if (c.passed) {
          c.note = concat("matches ", key);
          record(c);
          return;
        }
      }
    }
  }
  record(primary);
}

void CaseContext::check_debug(const std::string& debug_name, const Tensor& actual) {
  if (!options_.check_debug) return;
  const Json* debug = spec_.find("debug");
  const Json* key = debug ? debug->find(debug_name) : nullptr;
  if (!key || !key->is_string()) return;
  const Json* tolerances = spec_.find("debug_tolerance");
  const Json& tol = tolerance_for(tolerances ? *tolerances : Json(), debug_name);
  record(compare_tensors("debug." + debug_name, actual, fixtures_.tensor(key->as_string()), tol));
}

void CaseContext::check_param(const std::string& param_name, double actual) {
  OutputCheck c;
  c.output = "params." + param_name;
  const Json* tolerances = spec_.find("tolerance");
  const Json* tol = tolerances ? tolerances->find(c.output) : nullptr;
  const double expected_value = param(param_name).as_number();
  c.max_abs = std::fabs(actual - expected_value);
  c.rel_l2 = expected_value != 0 ? c.max_abs / std::fabs(expected_value) : c.max_abs;
  const double allowed = tol && tol->find("abs") ? tol->at("abs").as_number() : 0;
  c.passed = c.max_abs <= allowed;
  c.ratio = allowed > 0 ? c.max_abs / allowed : (c.max_abs == 0 ? 0 : INFINITY);
  if (!c.passed) c.note = concat("got ", actual, ", expected ", expected_value, " within ", allowed);
  record(c);
}

void CaseContext::record(OutputCheck check) { result_.outputs.push_back(std::move(check)); }

std::vector<CaseResult> run_conformance(const std::string& dir, const ConformanceOptions& options,
                                        const std::function<void(const CaseResult&)>& on_result) {
  FixtureDir fixtures(dir);
  Resources resources(fixtures, options);
  std::vector<CaseResult> results;
  for (const Json& spec : fixtures.manifest().at("cases").as_array("cases")) {
    CaseResult r;
    r.name = spec.at("name").as_string("case name");
    r.kind = spec.at("kind").as_string("case kind");
    if (!options.filter.empty() && r.name.find(options.filter) == std::string::npos &&
        r.kind.find(options.filter) == std::string::npos)
      continue;
    const auto start = std::chrono::steady_clock::now();
    const CaseRunner* runner = find_case_runner(r.kind);
    if (!runner) {
      r.status = CaseResult::Status::NotImplemented;
      r.message = concat("not implemented: case kind \"", r.kind, "\"");
    } else {
      try {
        CaseContext ctx(spec, fixtures, resources, options, r);
        (*runner)(ctx);
        bool all = !r.outputs.empty();
        for (const auto& o : r.outputs) all = all && o.passed;
        r.status = all ? CaseResult::Status::Passed : CaseResult::Status::Failed;
        if (r.outputs.empty()) r.message = "the runner checked no output";
        const Json* expected = spec.find("expected");
        if (expected && expected->is_object()) {
          for (const auto& [output, key] : expected->as_object()) {
            bool seen = false;
            for (const auto& o : r.outputs) seen = seen || o.output == output;
            if (!seen) {
              r.status = CaseResult::Status::Failed;
              r.message = concat("output \"", output, "\" was not produced");
            }
          }
        }
      } catch (const std::exception& e) {
        r.status = CaseResult::Status::Error;
        r.message = e.what();
      }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_result) on_result(r);
    results.push_back(std::move(r));
  }
  return results;
}

std::string format_result_line(const CaseResult& r) {
  // The output closest to (or furthest past) its bound speaks for the case.
  const OutputCheck* worst = nullptr;
  for (const auto& o : r.outputs) {
    if (!worst || (!o.passed && worst->passed) || (o.passed == worst->passed && o.ratio > worst->ratio)) worst = &o;
  }
  char errors[96] = "";
  if (worst) std::snprintf(errors, sizeof errors, "max_abs=%.3g rel_l2=%.3g", worst->max_abs, worst->rel_l2);
  std::ostringstream line;
  line << status_name(r.status) << "  " << r.name << "  [" << r.kind << "]  " << errors;
  char secs[32];
  std::snprintf(secs, sizeof secs, "  (%.2f s)", r.seconds);
  line << secs;
  if (r.status == CaseResult::Status::NotImplemented || r.status == CaseResult::Status::Error) {
    line << "  " << r.message;
  } else if (r.status == CaseResult::Status::Failed) {
    for (const auto& o : r.outputs)
      if (!o.passed) line << "  " << o.output << ": " << o.note;
    if (!r.message.empty()) line << "  " << r.message;
  }
  return line.str();
}

}  // namespace sd
