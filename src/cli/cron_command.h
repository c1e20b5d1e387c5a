#pragma once
// `hera cron next EXPR [--tz TZ] [--from TIME] [-n N]` and `hera cron check EXPR`: the cron
// engine from the command line, without a master.

namespace CLI {
class App;
}  // namespace CLI

namespace hera::cli {

// Registers the `cron` subcommand (with `next` and `check`) on `app`. Results go to stdout;
// errors go to stderr and end the process with exit code 1, by throwing CLI::RuntimeError(1)
// from the callback (CLI11_PARSE returns app.exit(e), which prints nothing for it).
void AddCronCommand(CLI::App& app);

}  // namespace hera::cli
