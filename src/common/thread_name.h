#pragma once
// Names the threads of the process, so `top -H`, perf and /proc/<pid>/task/*/comm tell them apart.

#include <string_view>

namespace hera {

// Names the calling thread (Linux keeps the first 15 bytes). Failure is ignored: a name is only
// a label.
void NameCurrentThread(std::string_view name);

}  // namespace hera
