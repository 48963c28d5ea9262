// Case runners, one per manifest "kind", each defined next to the code it tests.
#pragma once

#include "conformance/conformance.h"
#include "conformance/resources.h"

namespace sd {
}  // namespace sd
