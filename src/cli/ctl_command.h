#pragma once
// `hera ctl`: the command-line client of Hera's HTTP API (DESIGN.md §7).

#include <CLI/CLI.hpp>

namespace hera::cli {

// Registers the `ctl` subcommand and its commands on `app` (the `hera` binary's top-level app).
// The commands run from CLI11 callbacks during app.parse(); a failure prints "error: ..." to
// stderr and throws CLI::RuntimeError(1), or (2) when the server cannot be reached.
// The registered state lives as long as `app`.
void AddCtlCommand(CLI::App& app);

}  // namespace hera::cli
