#include "common/thread_name.h"

#include <pthread.h>

#include <string>

namespace hera {

void NameCurrentThread(std::string_view name) {
  const std::string label(name.substr(0, 15));
  (void)::pthread_setname_np(::pthread_self(), label.c_str());
}

}  // namespace hera
