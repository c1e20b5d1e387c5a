#include "render/zdt.h"

#include <string>
#include <utility>

#include "render/java_date_format.h"

namespace hera::render {

Zdt::Zdt(absl::Time t, absl::TimeZone tz) : base_(t), calendar_(t, std::move(tz)) {}

Zdt& Zdt::AddDay(int amount) { return Add(kDayOfYear, amount); }

Zdt& Zdt::Add(int field, int amount) {
  if (status_.ok()) status_ = calendar_.Add(field, amount);
  return *this;
}

Zdt& Zdt::Set(int field, int value) {
  if (status_.ok()) status_ = calendar_.Set(field, value);
  return *this;
}

absl::StatusOr<std::string> Zdt::Format(std::string_view pattern) {
  if (!status_.ok()) return status_;
  // Hera builds a new SimpleDateFormat per call; parsing is cheap next to rendering a script.
  absl::StatusOr<JavaDateFormat> format = JavaDateFormat::Parse(pattern);
  if (!format.ok()) return format.status();
  absl::StatusOr<JavaFields> fields = calendar_.Fields();
  if (!fields.ok()) return fields.status();
  return format->Format(*fields);
}

absl::StatusOr<int64_t> Zdt::GetTime() {
  absl::StatusOr<int64_t> millis = GetMillis();
  if (!millis.ok()) return millis;
  return *millis / 1000;  // Java's long division truncates toward zero, before 1970 too
}

absl::StatusOr<int64_t> Zdt::GetMillis() {
  if (!status_.ok()) return status_;
  return calendar_.UnixMillis();
}

absl::StatusOr<int64_t> Zdt::Get(int field) {
  if (!status_.ok()) return status_;
  return calendar_.Get(field);
}

std::string Zdt::GetToday() const { return absl::FormatTime("%Y-%m-%d", base_, calendar_.zone()); }

}  // namespace hera::render
