#pragma once
// The Store contract (STYLE.md §2.8): one parameterized gtest suite that every core::Store
// implementation passes unchanged. The TEST_Ps live in store_contract_test.cc (the
// hera_store_contract OBJECT library); a backend links it and instantiates the suite once:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//       ::testing::Values(StoreBackend{"sqlite", [] { return MakeSqliteTestDatabase(); }}),
//       StoreBackendName);
//
// A backend that needs a server (PostgreSQL) instantiates only when its DSN is set, e.g.
// `HERA_TEST_PG_DSN`; each TestDatabase can then be a fresh schema that its destructor drops.

#include <functional>
#include <ostream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/store.h"
#include "gtest/gtest.h"

namespace hera::store {

// One empty database that belongs to one test. Open() returns a store on it; after that store is
// destroyed, Open() may be called again and must see the same data (a process restart, with its
// migrations re-run). The destructor deletes the database.
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual absl::StatusOr<std::unique_ptr<core::Store>> Open() = 0;
};

struct StoreBackend {
  std::string name;  // the test-name suffix: letters, digits and '_'
  // Creates a new, empty database (called once per test).
  std::function<std::unique_ptr<TestDatabase>()> create;
};

// For INSTANTIATE_TEST_SUITE_P's name generator: the backend's name.
std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info);
// Prints the backend's name in gtest messages (instead of the struct's bytes).
void PrintTo(const StoreBackend& backend, std::ostream* os);

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;     // creates the database and opens store_ (fatal on failure)
  void TearDown() override;  // closes the store before dropping the database

  // Destroys the store and opens a new one on the same database (fatal on failure).
  void Reopen();
  core::Store& store() { return *store_; }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<core::Store> store_;
};

}  // namespace hera::store
