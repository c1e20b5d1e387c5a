#pragma once
// An example under every `hera ctl … --help`: what a person types, with real flags.

#include <CLI/CLI.hpp>

namespace hera::cli {

// Gives each command under `ctl` that has no footer yet its example ("Example: hera ctl …").
void AddExamples(CLI::App* ctl);

}  // namespace hera::cli
