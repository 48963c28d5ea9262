// Engine errors. Every failure the engine can detect becomes an sd::Error with a
// message a user can act on; the N-API layer turns it into a JS exception, so a
// bad file or a failed CUDA call never takes the process down.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sd {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown between layers when the caller asked to stop; not a failure.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(concat(std::forward<Parts>(parts)...));
}

}  // namespace sd

#define SD_CHECK(cond, ...)              \
  do {                                   \
    if (!(cond)) ::sd::fail(__VA_ARGS__); \
  } while (0)
