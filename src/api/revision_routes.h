#pragma once
// /api/v1/jobs/{id}/revisions/{rev}: one revision, its diff against another or against the job
// now, and restoring it (SEMANTICS.md §10). The list itself is served with the job routes.

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

// GET  /api/v1/jobs/{id}/revisions/{rev}
// GET  /api/v1/jobs/{id}/revisions/{rev}/diff?against=R|current
// POST /api/v1/jobs/{id}/revisions/{rev}/restore
void AddRevisionRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
