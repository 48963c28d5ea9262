// Case runners, one per manifest "kind".
#pragma once

#include "conformance/conformance.h"
#include "conformance/resources.h"

namespace sd {

// Networks (conformance/model_cases.cpp).
void run_text_encoder_case(CaseContext& ctx);
void run_text_encoder_chunked_case(CaseContext& ctx);
void run_unet_case(CaseContext& ctx);
void run_vae_decode_case(CaseContext& ctx);
void run_vae_encode_case(CaseContext& ctx);

// native/text/text_cases.cpp
void run_tokenizer_case(CaseContext& ctx);  // kinds tokenizer and tokenizer_ftfy
void run_tokenizer_a1111_chunks_case(CaseContext& ctx);

// native/sample/rng_schedule_cases.cpp
void run_schedule_case(CaseContext& ctx);
void run_torch_randn_cpu_case(CaseContext& ctx);
void run_philox_randn_case(CaseContext& ctx);

}  // namespace sd
