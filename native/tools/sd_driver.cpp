// sd-driver: the engine without Node. GPU machines that check the CUDA
// backend have CMake and a compiler but no Node.js, so everything a GPU check
// needs is reachable from here.
//
//   sd-driver conformance DIR [--checkpoint ckpt|safetensors|PATH] [--backend cpu|cuda]
//                             [--precision f32|f16|bf16] [--filter TEXT] [--debug] [--json FILE]
//   sd-driver tokenize --vocab FILE [--mode a1111|compvis|clean] [--emphasis MODE]
//                      [--comma-backtrack N] [--repeat N] (PROMPT | --prompt-file FILE | --batch FILE)
//   sd-driver emphasis --mode MODE --input FILE
//   sd-driver sampler-replay DIR     the samplers against the fixtures' recorded trajectories
//   sd-driver sample --spec FILE|-   one sampling run with an analytic model (JSON in, JSON out;
//                                    format in native/sample/sample_spec.h)
//   sd-driver inspect FILE [--verify] [--dtype f32|f16|bf16] [--list]
//   sd-driver load FILE [--dtype f32|f16|bf16] [--prefix P]... [--report]
//   sd-driver layout --config sd15|PATH.json
//   sd-driver make-model --config sd15|PATH.json --out FILE [--dtype f16|f32|bf16] [--seed N]
//                        [--format safetensors|ckpt] [--embed-config]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/conformance.h"
#include "core/error.h"
#include "text/text_commands.h"
#include "sample/sample_spec.h"
#include "sample/sampler_cases.h"

namespace sd {
int bench_ops_main(int argc, char** argv);
int bench_model_main(int argc, char** argv);
int generate_main(int argc, char** argv);
int compare_precision_main(int argc, char** argv);
int check_ops_main(int argc, char** argv);
}
#include "tools/driver_commands.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: sd-driver conformance DIR [--checkpoint ckpt|safetensors|PATH] [--backend cpu|cuda]\n"
               "                 [--precision f32|f16|bf16] [--filter TEXT] [--debug] [--json FILE]\n"
               "                 [--no-half] [--tolerance-rel R]\n"
               "       sd-driver bench MODEL [options]       (sd-driver bench for the list)\n"
               "       sd-driver bench-ops [FILTER] [f16|f32|bf16]\n"
               "       sd-driver check-ops                   (CPU kernel variants against references)\n"
               "       sd-driver generate MODEL [options]    (sd-driver generate for the list)\n"
               "       sd-driver compare-precision MODEL     (Winograd and bf16 against the direct sums)\n"
               "       sd-driver sampler-replay DIR\n"
               "       sd-driver sample --spec FILE|-\n"
               "       sd-driver inspect FILE [--verify] [--dtype f32|f16|bf16] [--list]\n"
               "       sd-driver load FILE [--dtype f32|f16|bf16] [--prefix P]... [--report]\n"
               "       sd-driver layout --config sd15|PATH.json\n"
               "       sd-driver make-model --config sd15|PATH.json --out FILE [--dtype f16|f32|bf16] [--seed N]\n"
               "                 [--format safetensors|ckpt] [--embed-config]\n"
               "       %s",
               sd::kTextCommandsUsage);
  return 2;
}

sd::Json result_json(const sd::CaseResult& r) {
  sd::Json j = sd::Json::object();
  j.set("name", sd::Json::string(r.name));
  j.set("kind", sd::Json::string(r.kind));
  j.set("status", sd::Json::string(r.status == sd::CaseResult::Status::Passed           ? "passed"
                                   : r.status == sd::CaseResult::Status::NotImplemented ? "not_implemented"
                                   : r.status == sd::CaseResult::Status::Error          ? "error"
                                                                                         : "failed"));
  j.set("message", sd::Json::string(r.message));
  j.set("seconds", sd::Json::number(r.seconds));
  sd::Json outputs = sd::Json::array();
  for (const auto& o : r.outputs) {
    sd::Json oj = sd::Json::object();
    oj.set("output", sd::Json::string(o.output));
    oj.set("max_abs", sd::Json::number(o.max_abs));
    oj.set("rel_l2", sd::Json::number(o.rel_l2));
    oj.set("mismatch_fraction", sd::Json::number(o.mismatch_fraction));
    oj.set("passed", sd::Json::boolean(o.passed));
    oj.set("note", sd::Json::string(o.note));
    outputs.push(oj);
  }
  j.set("outputs", outputs);
  return j;
}

int conformance(int argc, char** argv) {
  if (argc < 1) return usage();
  std::string dir = argv[0];
  sd::ConformanceOptions options;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw sd::Error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--checkpoint") options.checkpoint = value();
    else if (a == "--backend") options.backend = value();
    else if (a == "--precision") options.precision = value();
    else if (a == "--filter") options.filter = value();
    else if (a == "--json") json_path = value();
    else if (a == "--debug") options.check_debug = true;
    else if (a == "--no-half") options.half_activations = false;
    else if (a == "--tolerance-rel") options.rel_tolerance_override = std::stod(value());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return usage();
    }
  }
  int passed = 0, failed = 0;
  const auto results = sd::run_conformance(dir, options, [&](const sd::CaseResult& r) {
    std::printf("%s\n", sd::format_result_line(r).c_str());
    std::fflush(stdout);
    (r.status == sd::CaseResult::Status::Passed ? passed : failed)++;
  });
  std::printf("%d passed, %d failed\n", passed, failed);
  if (!json_path.empty()) {
    sd::Json all = sd::Json::array();
    for (const auto& r : results) all.push(result_json(r));
    std::ofstream(json_path) << all.dump() << "\n";
  }
  return failed == 0 ? 0 : 1;
}

int sampler_replay(int argc, char** argv) {
  if (argc != 1) return usage();
  int passed = 0, failed = 0;
  sd::run_sampler_replay(argv[0], [&](const sd::CaseResult& r) {
    std::printf("%s\n", sd::format_result_line(r).c_str());
    std::fflush(stdout);
    (r.status == sd::CaseResult::Status::Passed ? passed : failed)++;
  });
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}

int sample(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[0], "--spec") != 0) return usage();
  std::ostringstream text;
  if (std::strcmp(argv[1], "-") == 0) {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) throw sd::Error(std::string("cannot read ") + argv[1]);
    text << in.rdbuf();
  }
  std::printf("%s\n", sd::run_sample_spec(sd::Json::parse(text.str())).dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  try {
    if (command == "conformance") return conformance(argc - 2, argv + 2);
    if (command == "bench-ops") return sd::bench_ops_main(argc - 2, argv + 2);
    if (command == "check-ops") return sd::check_ops_main(argc - 2, argv + 2);
    if (command == "bench") return sd::bench_model_main(argc - 2, argv + 2);
    if (command == "generate") return sd::generate_main(argc - 2, argv + 2);
    if (command == "compare-precision") return sd::compare_precision_main(argc - 2, argv + 2);
    if (command == "tokenize") return sd::tokenize_command(argc - 2, argv + 2);
    if (command == "emphasis") return sd::emphasis_command(argc - 2, argv + 2);
    if (command == "sampler-replay") return sampler_replay(argc - 2, argv + 2);
    if (command == "sample") return sample(argc - 2, argv + 2);
    if (command == "inspect") return sd::driver_inspect(argc - 2, argv + 2);
    if (command == "load") return sd::driver_load(argc - 2, argv + 2);
    if (command == "layout") return sd::driver_layout(argc - 2, argv + 2);
    if (command == "make-model") return sd::driver_make_model(argc - 2, argv + 2);
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
