// The text side's sd-driver commands (GPU machines without Node use them, and
// test/native/prompt.test.ts drives the parser through them):
//   tokenize  a prompt -> A1111 chunks and weights, CompVis ids, or the cleaned text
//   emphasis  prompt weights applied to given encoder output
#pragma once

namespace sd {

extern const char* const kTextCommandsUsage;
// Each returns the process exit code (2: bad usage); engine errors throw sd::Error.
int tokenize_command(int argc, char** argv);
int emphasis_command(int argc, char** argv);

}  // namespace sd
