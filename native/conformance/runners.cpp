// Which case kinds the engine can run. A kind missing here is reported as
// "not implemented" (and counted as failed), never silently skipped.
#include <map>

#include "conformance/cases.h"

namespace sd {

const CaseRunner* find_case_runner(const std::string& kind) {
  static const std::map<std::string, CaseRunner> runners = {
  };
  const auto it = runners.find(kind);
  return it == runners.end() ? nullptr : &it->second;
}

}  // namespace sd
