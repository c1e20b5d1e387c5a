#pragma once
// Text to FieldSet: the Quartz and Unix (cronie) grammars. Internal to hera_cron.

#include <string_view>

#include "absl/status/statusor.h"
#include "cron/cron_field.h"

namespace hera::cron::internal {

struct Compiled {
  FieldSet fields;
  Dialect dialect = Dialect::kQuartz;
  // The hour field is '*' or a step ("*", "*/2", "1-23/2", "/3"): such an expression is an
  // interval and fires in both passes of a fall-back overlap (SEMANTICS.md §2).
  bool hour_interval = false;
};

// Reads `text` (5 fields or an @-macro: Unix; 6 or 7 fields: Quartz). On error the status is
// InvalidArgument and says which field, where and why, e.g.
// "day-of-week: 8 is outside 1-7 (field 6, column 11)".
absl::StatusOr<Compiled> Compile(std::string_view text);

}  // namespace hera::cron::internal
