// Conformance runners for the text side (kinds tokenizer, tokenizer_ftfy,
// tokenizer_a1111_chunks; test/fixtures/README.md).
#include <algorithm>

#include "conformance/cases.h"
#include "text/clip_tokenizer.h"
#include "text/prompt_chunks.h"

namespace sd {

namespace {

Tensor ids_tensor(const std::vector<int32_t>& ids, int64_t rows) {
  Tensor t = Tensor::host({rows, static_cast<int64_t>(ids.size()) / rows}, DType::I32);
  std::copy(ids.begin(), ids.end(), t.data<int32_t>());
  return t;
}

}  // namespace

void run_tokenizer_case(CaseContext& ctx) {
  const ClipTokenizer& tokenizer = ctx.resources().tokenizer();
  const std::string& prompt = ctx.param("prompt").as_string("params.prompt");
  ctx.check("input_ids", ids_tensor(tokenizer.encode_framed(prompt), 1));
}

void run_tokenizer_a1111_chunks_case(CaseContext& ctx) {
  const ClipTokenizer& tokenizer = ctx.resources().tokenizer();
  PromptOptions options;
  if (const Json* backtrack = ctx.find_param("comma_padding_backtrack"))
    options.comma_padding_backtrack = static_cast<int>(backtrack->as_int("params.comma_padding_backtrack"));
  const PromptTokens tokens = tokenize_prompt(tokenizer, ctx.param("prompt").as_string("params.prompt"), options);
  ctx.check("chunks", ids_tensor(tokens.flat_ids(), static_cast<int64_t>(tokens.chunks.size())));
}

}  // namespace sd
