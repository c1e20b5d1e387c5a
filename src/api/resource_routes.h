#pragma once
// The resource store over HTTP (SEMANTICS.md §7): POST /api/v1/resources (multipart upload),
// GET /api/v1/resources, /api/v1/resources/{name}, /api/v1/resources/{name}/content, and
// GET /internal/v1/resources/{name}/content, which remote workers call with the cluster token
// to fetch `download[hera://name]` files.

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

// Adds nothing when ctx.resources is null; the internal route only when ctx.cluster_token is
// set.
void AddResourceRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
