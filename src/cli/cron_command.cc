#include "cli/cron_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/time_format.h"
#include "common/zone_name.h"
#include "cron/cron_expr.h"

namespace hera::cli {
namespace {

// The expression may come as one quoted argument or as several words; words are joined.
struct CronFlags {
  std::vector<std::string> words;
  std::string tz;
  std::string from;
  int count = 1;
};

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

// Prints "error: ..." to stderr and ends the command with exit code 1.
[[noreturn]] void Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << std::endl;
  throw CLI::RuntimeError(1);
}

cron::CronExpr ParseOrFail(const std::vector<std::string>& words) {
  absl::StatusOr<cron::CronExpr> expr = cron::CronExpr::Parse(Joined(words));
  if (!expr.ok()) Fail(expr.status());
  return *std::move(expr);
}

void RunNext(const CronFlags& flags) {
  const cron::CronExpr expr = ParseOrFail(flags.words);
  absl::TimeZone tz = absl::LocalTimeZone();
  if (!flags.tz.empty() && !LoadIanaZone(flags.tz, &tz)) {
    Fail(absl::InvalidArgumentError("unknown time zone '" + flags.tz +
                                    "' (use an IANA name such as Asia/Shanghai)"));
  }
  absl::Time t = absl::Now();
  if (!flags.from.empty()) {
    // Without an offset the time is local in the zone; an ambiguous one (fall-back overlap) is
    // taken in its first pass, and an offset picks the pass.
    absl::StatusOr<absl::Time> from = ParseIsoTime(flags.from, tz);
    if (!from.ok()) {
      Fail(absl::InvalidArgumentError(
          "--from: '" + flags.from +
          "' is not a time; use YYYY-MM-DDTHH:MM:SS[.fff][+HH:MM], e.g. 2026-03-08T01:30:00"));
    }
    t = *from;
  }
  std::string out;
  for (int i = 0; i < flags.count; ++i) {
    const std::optional<absl::Time> next = expr.NextAfter(t, tz);
    if (!next) break;  // no further fire time: fewer lines, still success
    out += FormatIsoTime(*next, tz);
    out += '\n';
    t = *next;
  }
  std::cout << out << std::flush;
}

void RunCheck(const CronFlags& flags) {
  ParseOrFail(flags.words);
  std::cout << "OK" << std::endl;
}

}  // namespace

void AddCronCommand(CLI::App& app) {
  CLI::App* cron = app.add_subcommand("cron", "Check cron expressions and list their fire times");
  cron->require_subcommand(1);

  auto next_flags = std::make_shared<CronFlags>();
  CLI::App* next = cron->add_subcommand(
      "next", "Print the next fire times of EXPR, one per line, as local ISO-8601 with offset");
  next->add_option("EXPR", next_flags->words,
                   "Quartz (6-7 fields) or Unix (5 fields, @daily...) cron expression; quote it")
      ->required();
  next->add_option("--tz", next_flags->tz, "IANA time zone (default: this machine's zone)");
  next->add_option("--from", next_flags->from,
                   "Start after this time, YYYY-MM-DDTHH:MM:SS[.fff][+HH:MM] in the zone "
                   "(default: now)");
  next->add_option("-n,--count", next_flags->count, "How many fire times (default 1)")
      ->check(CLI::Range(0, 1000000));
  next->callback([next_flags] { RunNext(*next_flags); });

  auto check_flags = std::make_shared<CronFlags>();
  CLI::App* check =
      cron->add_subcommand("check", "Print OK if EXPR is valid, else the error (exit code 1)");
  check->add_option("EXPR", check_flags->words, "cron expression; quote it")->required();
  check->callback([check_flags] { RunCheck(*check_flags); });
}

}  // namespace hera::cli
