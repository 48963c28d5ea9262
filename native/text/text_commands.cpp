#include "text/text_commands.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/tensor.h"
#include "text/clip_tokenizer.h"
#include "text/emphasis.h"
#include "text/prompt_chunks.h"
#include "text/unicode.h"

namespace sd {

const char* const kTextCommandsUsage =
    "sd-driver tokenize --vocab FILE [--mode a1111|compvis|clean] [--emphasis MODE]\n"
    "                 [--comma-backtrack N] [--repeat N] (PROMPT | --prompt-file FILE | --batch FILE)\n"
    "       sd-driver emphasis --mode Original|\"No norm\"|Ignore|None --input FILE\n";

namespace {

int usage_error() {
  std::fprintf(stderr, "usage: %s", kTextCommandsUsage);
  return 2;
}

int int_option(const std::string& name, const std::string& text) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  SD_CHECK(!text.empty() && *end == '\0' && v >= 0 && v <= 1000000000, name, " needs a whole number, got \"", text, "\"");
  return static_cast<int>(v);
}

Json int_array(const std::vector<int32_t>& values) {
  Json a = Json::array();
  for (const int32_t v : values) a.push(Json::number(v));
  return a;
}

std::string read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SD_CHECK(in.good(), "cannot read ", path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// Prints, as JSON on one line:
//   a1111 (default): {"pieces":[{"text","weight"}],"chunks":[{"ids":[77],"weights":[77]}],"tokenCount"}
//   compvis:         {"ids":[77],"tokens":[...unframed ids]}
//   clean:           {"text": CLIPTokenizer's cleaned text}  (no vocabulary needed)
// --prompt-file reads the prompt's raw bytes; --batch reads a JSON array of
// prompts and prints a JSON array of results (one process for many prompts).
// With --repeat N the tokenization runs N times and "timing" gives
// {"loadMs", "firstMs" (the first run, cold BPE cache), "tokenizeMs" (mean of the N runs after it)}.
int tokenize_command(int argc, char** argv) {
  std::string vocab, mode = "a1111", prompt, batch_path;
  bool have_prompt = false;
  int repeat = 0;
  PromptOptions options;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      SD_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (a == "--vocab") vocab = value();
    else if (a == "--mode") mode = value();
    else if (a == "--emphasis") options.emphasis = parse_emphasis_mode(value());
    else if (a == "--comma-backtrack") options.comma_padding_backtrack = int_option(a, value());
    else if (a == "--repeat") repeat = int_option(a, value());
    else if (a == "--prompt-file") prompt = read_prompt_file(value()), have_prompt = true;
    else if (a == "--batch") batch_path = value(), have_prompt = true;
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return usage_error();
    } else if (!have_prompt) prompt = a, have_prompt = true;
    else return usage_error();
  }
  if (!have_prompt || (mode != "a1111" && mode != "compvis" && mode != "clean")) return usage_error();
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<ClipTokenizer> tokenizer;
  double load_ms = 0;
  if (mode != "clean") {
    SD_CHECK(!vocab.empty(), "tokenize needs --vocab FILE (assets/bpe_simple_vocab_16e6.txt.gz)");
    const auto load_start = Clock::now();
    tokenizer = ClipTokenizer::load(vocab);
    load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  }
  const auto run = [&](const std::string& prompt) {
    Json r = Json::object();
    if (mode == "clean") {
      r.set("text", Json::string(unicode::encode_utf8(clip_clean_text(unicode::decode_utf8(prompt)))));
      return r;
    }
    if (mode == "compvis") {
      r.set("ids", int_array(tokenizer->encode_framed(prompt)));
      r.set("tokens", int_array(tokenizer->encode(prompt)));
      return r;
    }
    const PromptTokens tokens = tokenize_prompt(*tokenizer, prompt, options);
    Json pieces = Json::array();
    for (const auto& p : tokens.pieces) {
      Json pj = Json::object();
      pj.set("text", Json::string(p.text));
      pj.set("weight", Json::number(p.weight));
      pieces.push(pj);
    }
    Json chunks = Json::array();
    for (const auto& c : tokens.chunks) {
      Json cj = Json::object();
      cj.set("ids", int_array(c.ids));
      Json weights = Json::array();
      for (const double w : c.weights) weights.push(Json::number(w));
      cj.set("weights", weights);
      chunks.push(cj);
    }
    r.set("pieces", pieces);
    r.set("chunks", chunks);
    r.set("tokenCount", Json::number(static_cast<double>(tokens.token_count)));
    return r;
  };
  if (!batch_path.empty()) {
    Json results = Json::array();
    const Json prompts = Json::parse(read_prompt_file(batch_path));
    for (const Json& p : prompts.as_array("--batch file"))
      results.push(run(p.as_string("--batch prompt")));
    std::printf("%s\n", results.dump().c_str());
    return 0;
  }
  const auto first_start = Clock::now();
  Json out = run(prompt);
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - first_start).count();
  if (repeat > 0) {
    const auto start = Clock::now();
    for (int k = 0; k < repeat; ++k) run(prompt);
    Json timing = Json::object();
    timing.set("loadMs", Json::number(load_ms));
    timing.set("firstMs", Json::number(first_ms));  // with a cold BPE cache
    timing.set("tokenizeMs", Json::number(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / repeat));
    out.set("timing", timing);
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// Applies prompt weights to encoder output given as JSON
// {"hidden": H, "chunkRows": 77, "z": [rows * H floats], "weights": [rows]}
// and prints {"z": [...]} (float32 values).
int emphasis_command(int argc, char** argv) {
  std::string mode, input;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage_error();
    if (a == "--mode") mode = argv[++i];
    else if (a == "--input") input = argv[++i];
    else return usage_error();
  }
  if (mode.empty() || input.empty()) return usage_error();
  const Json spec = Json::parse(read_prompt_file(input));
  const int64_t hidden = spec.at("hidden").as_int("hidden");
  const int64_t chunk_rows = spec.has("chunkRows") ? spec.at("chunkRows").as_int("chunkRows") : 77;
  std::vector<float> z;
  for (const Json& v : spec.at("z").as_array("z")) z.push_back(static_cast<float>(v.as_number("z value")));
  std::vector<double> weights;
  for (const Json& w : spec.at("weights").as_array("weights")) weights.push_back(w.as_number("weight"));
  SD_CHECK(hidden > 0 && static_cast<int64_t>(z.size()) % hidden == 0, "z does not hold whole rows of ", hidden);
  Tensor t = Tensor::borrow(z.data(), {static_cast<int64_t>(z.size()) / hidden, hidden}, DType::F32);
  apply_emphasis(t, weights, parse_emphasis_mode(mode), chunk_rows);
  Json out = Json::array();
  for (const float v : z) out.push(Json::number(v));
  Json result = Json::object();
  result.set("z", out);
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace sd
