#pragma once
// /api/v1/backfills: a date range run again through the DAG (core/backfill_plan.h).

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

void AddBackfillRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
