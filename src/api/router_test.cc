#include "api/router.h"

#include <gtest/gtest.h>

namespace hera::api {
namespace {

HttpRequest Req(const std::string& method, const std::string& path) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  return r;
}

TEST(RouterTest, MatchesCapturesAndDistinguishes404From405) {
  Router router;
  router.Add("GET", "/api/v1/jobs/{id}", [](HttpRequest& req) {
    HttpResponse r;
    r.body = "job " + req.params["id"];
    return r;
  });
  router.Add("POST", "/api/v1/jobs/{id}/run", [](HttpRequest&) {
    HttpResponse r;
    r.status = 202;
    return r;
  });
  HttpRequest get = Req("GET", "/api/v1/jobs/42");
  EXPECT_EQ(router.Handle(get).body, "job 42");
  HttpRequest run = Req("POST", "/api/v1/jobs/42/run/");
  EXPECT_EQ(router.Handle(run).status, 202);
  HttpRequest wrong_method = Req("DELETE", "/api/v1/jobs/42/run");
  EXPECT_EQ(router.Handle(wrong_method).status, 405);
  HttpRequest unknown = Req("GET", "/api/v1/nothing");
  const HttpResponse r = router.Handle(unknown);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("NOT_FOUND"), std::string::npos);
}

}  // namespace
}  // namespace hera::api
