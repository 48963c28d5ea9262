#include "tools/process_stats.h"

#include <cstdio>
#include <cstring>

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace sd {

namespace {
size_t status_field_kib(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t value = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, field, n) == 0) {
      std::sscanf(line + n, "%zu", &value);
      break;
    }
  }
  std::fclose(f);
  return value;
}
}  // namespace

size_t current_rss_bytes() { return status_field_kib("VmRSS:") * 1024; }

size_t peak_rss_bytes() {
  const size_t hwm = status_field_kib("VmHWM:") * 1024;
  if (hwm) return hwm;
#ifndef _WIN32
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) return static_cast<size_t>(ru.ru_maxrss) * 1024;
#endif
  return 0;
}

}  // namespace sd
