// How prompt weights act on the text encoder output: AUTOMATIC1111's
// "Emphasis mode" setting (modules/sd_emphasis.py; default "Original").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace sd {

enum class EmphasisMode {
  Original,  // z *= weight per token, then rescale each chunk to its old mean
  NoNorm,    // "No norm": z *= weight, no rescale
  Ignore,    // parse the syntax (it still removes the brackets), apply no weights
  None,      // no syntax at all: "(word:1.2)" and "BREAK" are plain text
};

// The webui's option names: "Original", "No norm", "Ignore", "None".
EmphasisMode parse_emphasis_mode(std::string_view name);
const char* emphasis_mode_name(EmphasisMode mode);

// Applies the weights to the encoder output of a prompt, in place, as the
// webui does after each chunk's forward pass:
//   z: host F32 [chunks * 77, hidden] (or [chunks, 77, hidden])
//   weights: one per row of z (PromptTokens::flat_weights())
// Original: per 77-token chunk, mean0 = mean(z); z *= w; z *= mean0 / mean(z).
// (The webui takes the mean over its whole batch of prompts for that chunk;
// for one prompt, as here, that is the chunk's mean.) A chunk whose weighted
// mean is exactly 0 is left unscaled instead of becoming NaN.
void apply_emphasis(Tensor& z, const std::vector<double>& weights, EmphasisMode mode, int64_t chunk_rows = 77);
void apply_emphasis(float* z, int64_t rows, int64_t hidden, const double* weights, EmphasisMode mode,
                    int64_t chunk_rows = 77);

}  // namespace sd
