// Resident memory of this process, for benchmark reports.
#pragma once

#include <cstddef>

namespace sd {

size_t current_rss_bytes();  // VmRSS
size_t peak_rss_bytes();     // VmHWM (ru_maxrss elsewhere)

}  // namespace sd
