#pragma once
// JSON shapes of the model, shared by the HTTP API and the stores (DESIGN.md §7). Decoding is
// strict: unknown fields, wrong types and bad values are InvalidArgument naming the field.
// Pure: no IO.

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model.h"

namespace hera::core {

// The API shape of a job: its editable definition plus id, version and timestamps.
nlohmann::json JobToJson(const Job& job, const absl::TimeZone& tz);
// Only the editable definition (what a revision stores and what a store keeps as JSON).
nlohmann::json JobDefinitionToJson(const Job& job);
// Applies the editable fields present in `body` to `*job` (create and PATCH). On error `*job`
// may be partly changed: callers apply to a copy.
absl::Status ApplyJobJson(const nlohmann::json& body, Job* job);

nlohmann::json GroupToJson(const Group& group, const absl::TimeZone& tz);
nlohmann::json ActionToJson(const Action& action, const absl::TimeZone& tz);
nlohmann::json RunToJson(const Run& run, const absl::TimeZone& tz);
nlohmann::json RevisionToJson(const JobRevision& rev, const absl::TimeZone& tz);
// A rerun batch as the API shows it (progress, without the items unless `with_items`).
nlohmann::json RerunToJson(const RerunBatch& batch, const absl::TimeZone& tz, bool with_items);
// The whole batch as a store keeps it (times in microseconds) and back.
nlohmann::json RerunToDocument(const RerunBatch& batch);
absl::StatusOr<RerunBatch> RerunFromDocument(const nlohmann::json& doc);

// A backfill as the API shows it: its fields, totals, progress per date (civil days in `tz`)
// and per job ({"done","failed","running","waiting","skipped","total"}), and with `with_nodes`
// each node {"job_id","scheduled_time","action_id","state","upstream"}.
nlohmann::json BackfillToJson(const Backfill& b, const absl::TimeZone& tz, bool with_nodes);
// A backfill's stored form without its nodes (they are rows of their own), and back.
nlohmann::json BackfillToDocument(const Backfill& b);
absl::StatusOr<Backfill> BackfillFromDocument(const nlohmann::json& doc);

// A name people see in lists and paths (a job's, a group's, a host group's): OK, or
// InvalidArgument naming `field` when it is empty, only spaces, longer than 200 bytes or holds
// a control character.
absl::Status CheckName(std::string_view name, std::string_view field);
// A description: OK, or InvalidArgument naming `field` when it is over 64 KiB.
absl::Status CheckDescription(const std::string& text, std::string_view field);
// An owner (a user or team name): OK, or InvalidArgument naming `field` over 200 bytes.
absl::Status CheckOwner(const std::string& owner, std::string_view field);

// Configs as a JSON object of strings.
nlohmann::json ConfigsToJson(const Configs& configs);
absl::StatusOr<Configs> ConfigsFromJson(const nlohmann::json& j, std::string_view field);

}  // namespace hera::core
