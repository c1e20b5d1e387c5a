"""Job history and the job DAG on the real binary: revisions diffed and restored (SEMANTICS.md
§10), and GET /jobs/{id}/graph with a "why not running" reason per node (DESIGN.md §7)."""

import os
import shutil
import subprocess
import tempfile
import unittest

from hera_process import HERA_BIN, ApiError, Hera

DAILY_3AM_UTC = {"cron": "0 0 3 * * ?", "timezone": "UTC"}


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class HistoryGraphTest(unittest.TestCase):
    def setUp(self):
        self.hera = Hera().start()
        self.addCleanup(self.hera.cleanup)
        self.gid = self.hera.create_group("etl")["id"]
        self.config_dir = tempfile.mkdtemp(prefix="hera-hist-ctl-")
        self.addCleanup(shutil.rmtree, self.config_dir, True)

    def patch(self, job_id, body):
        return self.hera.request("PATCH", f"/api/v1/jobs/{job_id}", body)

    def api_error(self, status, method, path, body=None):
        with self.assertRaises(ApiError) as cm:
            self.hera.request(method, path, body)
        self.assertEqual(cm.exception.status, status, cm.exception.body)
        return cm.exception.body["error"]

    def ctl(self, *args):
        env = {k: v for k, v in os.environ.items() if k not in ("HERA_SERVER", "HERA_TOKEN")}
        env.update(HERA_CONFIG_DIR=self.config_dir, NO_COLOR="1")
        r = subprocess.run([HERA_BIN, "ctl", "--server", self.hera.base, "--token",
                            self.hera.token] + [str(a) for a in args],
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    @staticmethod
    def by_field(diff):
        return {c["field"]: c for c in diff["changes"]}

    # --- revisions ----------------------------------------------------------------------------
    def test_edit_three_times_diff_and_restore(self):
        job = self.hera.create_job(self.gid, "load", "echo one\n")
        jid = job["id"]
        self.assertEqual(job["version"], 1)
        self.patch(jid, {"script": "echo one\necho two\n"})                             # 2
        self.patch(jid, {"retry": {"count": 2, "interval_s": 5}, "schedule": DAILY_3AM_UTC})  # 3
        v4 = self.patch(jid, {"script": "echo three\n", "description": "third"})         # 4
        self.assertEqual(v4["version"], 4)
        revs = self.hera.get(f"/api/v1/jobs/{jid}/revisions")["items"]
        self.assertEqual([r["version"] for r in revs], [4, 3, 2, 1])

        rev2 = self.hera.get(f"/api/v1/jobs/{jid}/revisions/2")
        self.assertEqual(rev2["version"], 2)
        self.assertEqual(rev2["definition"]["script"], "echo one\necho two\n")

        # Default: against the revision before.
        d = self.hera.get(f"/api/v1/jobs/{jid}/revisions/2/diff")
        self.assertEqual((d["job_id"], d["from"], d["to"]), (jid, 1, 2))
        self.assertEqual([c["field"] for c in d["changes"]], ["script"])
        self.assertEqual(d["changes"][0]["lines"],
                         [{"op": " ", "text": "echo one"}, {"op": "+", "text": "echo two"}])

        # Nested fields as dotted paths.
        d = self.by_field(self.hera.get(f"/api/v1/jobs/{jid}/revisions/3/diff"))
        self.assertEqual(set(d), {"retry.count", "retry.interval_s", "schedule.cron",
                                  "schedule.timezone"})
        self.assertEqual((d["retry.count"]["before"], d["retry.count"]["after"]), (0, 2))
        self.assertEqual((d["schedule.cron"]["before"], d["schedule.cron"]["after"]),
                         ("", "0 0 3 * * ?"))

        # Against the job now: what restoring revision 2 would change.
        d = self.hera.get(f"/api/v1/jobs/{jid}/revisions/2/diff?against=current")
        self.assertEqual((d["from"], d["to"]), (4, 2))
        fields = self.by_field(d)
        self.assertEqual(fields["script"]["lines"],
                         [{"op": "-", "text": "echo three"}, {"op": "+", "text": "echo one"},
                          {"op": "+", "text": "echo two"}])
        self.assertEqual(fields["description"]["after"], "")
        d = self.hera.get(f"/api/v1/jobs/{jid}/revisions/4/diff?against=1")
        self.assertEqual((d["from"], d["to"]), (1, 4))
        self.assertIn("retry.count", self.by_field(d))
        # The first revision against nothing: every field is new.
        d = self.hera.get(f"/api/v1/jobs/{jid}/revisions/1/diff")
        self.assertIsNone(d["from"])
        self.assertEqual(self.by_field(d)["name"]["after"], "load")

        # Restore revision 2: a new save (version 5) and its own revision.
        restored = self.hera.post(f"/api/v1/jobs/{jid}/revisions/2/restore")
        self.assertEqual(restored["version"], 5)
        self.assertEqual(restored["restored_from"], 2)
        self.assertEqual(restored["script"], "echo one\necho two\n")
        self.assertEqual(restored["retry"], {"count": 0, "interval_s": 0})
        self.assertEqual(restored["schedule"]["cron"], "")
        self.assertEqual(restored["description"], "")
        job = self.hera.get(f"/api/v1/jobs/{jid}")
        self.assertEqual((job["version"], job["script"]), (5, "echo one\necho two\n"))
        newest = self.hera.get(f"/api/v1/jobs/{jid}/revisions")["items"][0]
        self.assertEqual(newest["version"], 5)
        self.assertEqual(set(newest["changed_fields"]),
                         {"script", "retry", "schedule", "description"})
        self.assertEqual(newest["definition"]["script"], "echo one\necho two\n")
        self.assertEqual(newest["author"], "admin")
        # Restoring what the job already is changes nothing.
        again = self.hera.post(f"/api/v1/jobs/{jid}/revisions/2/restore")
        self.assertEqual((again["version"], again["changed_fields"]), (5, []))
        self.assertEqual(len(self.hera.get(f"/api/v1/jobs/{jid}/revisions")["items"]), 5)

        # Unknown revisions, bad parameters.
        for method, path in [("GET", f"/api/v1/jobs/{jid}/revisions/99"),
                             ("GET", f"/api/v1/jobs/{jid}/revisions/99/diff"),
                             ("GET", f"/api/v1/jobs/{jid}/revisions/2/diff?against=99"),
                             ("POST", f"/api/v1/jobs/{jid}/revisions/99/restore"),
                             ("POST", "/api/v1/jobs/999/revisions/1/restore")]:
            self.api_error(404, method, path, {} if method == "POST" else None)
        self.api_error(400, "GET", f"/api/v1/jobs/{jid}/revisions/2/diff?against=yesterday")
        self.api_error(400, "GET", f"/api/v1/jobs/{jid}/revisions/x")
        self.assertEqual(self.hera.get(f"/api/v1/jobs/{jid}")["version"], 5)

        # The same through hera ctl.
        out = self.ctl("job", "revisions", jid)
        self.assertIn("description, retry, schedule, script", out)
        out = self.ctl("job", "diff", jid, 4, "--against", 3)
        self.assertIn("- echo one", out)
        self.assertIn("+ echo three", out)
        self.assertIn("description:", out)
        out = self.ctl("job", "restore", jid, 4)
        self.assertIn("restored to revision 4 (now version 6", out)
        self.assertEqual(self.hera.get(f"/api/v1/jobs/{jid}")["script"], "echo three\n")

    def test_restore_obeys_the_save_rules(self):
        up = self.hera.create_job(self.gid, "up", "true", enabled=True)["id"]
        job = self.hera.create_job(self.gid, "job", "true", enabled=True)["id"]
        # Revision 2 depends on `up`; revision 3 no longer does.
        self.patch(job, {"schedule": {"depends_on": [{"job_id": up}]}})
        self.patch(job, {"schedule": {"depends_on": []}})
        # Now `up` depends on `job`: restoring revision 2 would close the cycle job → up → job.
        self.patch(up, {"schedule": {"depends_on": [{"job_id": job}]}})
        err = self.api_error(409, "POST", f"/api/v1/jobs/{job}/revisions/2/restore", {})
        self.assertIn("cycle", err["message"])
        self.assertIn("restoring revision 2", err["message"])
        self.assertEqual(self.hera.get(f"/api/v1/jobs/{job}")["version"], 3)
        self.assertEqual(len(self.hera.get(f"/api/v1/jobs/{job}/revisions")["items"]), 3)

        # An enabled job cannot go back to depending on a job that is now disabled.
        other = self.hera.create_job(self.gid, "other", "true", enabled=True)["id"]
        self.patch(job, {"schedule": {"depends_on": [{"job_id": other}]}})  # 4
        self.patch(job, {"schedule": {"depends_on": []}})                   # 5
        self.hera.post(f"/api/v1/jobs/{other}/disable")
        err = self.api_error(409, "POST", f"/api/v1/jobs/{job}/revisions/4/restore", {})
        self.assertIn("disabled", err["message"])
        job_now = self.hera.get(f"/api/v1/jobs/{job}")
        self.assertEqual((job_now["version"], job_now["schedule"]["depends_on"]), (5, []))

    def test_restore_keeps_enabled(self):
        jid = self.hera.create_job(self.gid, "flag", "echo 1")["id"]     # 1, disabled
        self.patch(jid, {"script": "echo 2"})                             # 2
        self.hera.post(f"/api/v1/jobs/{jid}/enable")                      # 3
        job = self.hera.post(f"/api/v1/jobs/{jid}/revisions/1/restore")  # 4
        self.assertEqual((job["version"], job["script"], job["enabled"]), (4, "echo 1", True))
        self.assertEqual(job["changed_fields"], ["script"])

    # --- graph --------------------------------------------------------------------------------
    def assert_why_sensible(self, node):
        why, today = node["why"], node["today"]
        self.assertTrue(why, node)
        if not node["enabled"]:
            self.assertEqual(why, "disabled")
            return
        self.assertIsNotNone(today, node)
        expected = {"pending": "waiting for its time (", "skipped": "skipped",
                    "waiting": "waiting", "queued": "queued", "running": "running",
                    "success": "succeeded at ", "failed": "failed"}[today["status"]]
        self.assertTrue(why.startswith(expected), node)

    def test_graph_of_a_three_level_dag(self):
        a = self.hera.create_job(self.gid, "alpha_src", "true", enabled=True,
                                 schedule=DAILY_3AM_UTC)["id"]
        b = self.hera.create_job(self.gid, "beta_mid", "true", enabled=True,
                                 schedule={"depends_on": [{"job_id": a}]})["id"]
        c = self.hera.create_job(self.gid, "gamma_end", "true", enabled=True,
                                 schedule={"depends_on": [{"job_id": b,
                                                           "period": "all_of_day"}]})["id"]
        d = self.hera.create_job(self.gid, "delta_off", "true", enabled=False,
                                 schedule={"depends_on": [{"job_id": c}]})["id"]
        manual = self.hera.create_job(self.gid, "by_hand", "true", enabled=True)["id"]

        g = self.hera.get(f"/api/v1/jobs/{c}/graph?direction=up")
        self.assertEqual(g["root"], c)
        nodes = {n["id"]: n for n in g["nodes"]}
        self.assertEqual({k: n["depth"] for k, n in nodes.items()}, {c: 0, b: 1, a: 2})
        self.assertEqual(sorted((e["from"], e["to"]) for e in g["edges"]), sorted([(a, b), (b, c)]))
        self.assertEqual(nodes[c]["name"], "gamma_end")
        self.assertEqual(nodes[a]["cron"], "0 0 3 * * ?")
        self.assertEqual(nodes[b]["group_id"], self.gid)
        for n in g["nodes"]:
            self.assert_why_sensible(n)
        # The downstream actions follow A's one action of today, at its time.
        times = {n["today"]["scheduled_time"] for n in g["nodes"]}
        self.assertEqual(len(times), 1, g["nodes"])
        edge = [e for e in g["edges"] if e["to"] == c][0]
        self.assertEqual(edge["period"], "all_of_day")

        # Downstream from A, limited by depth: D (disabled) is 3 edges away.
        g = self.hera.get(f"/api/v1/jobs/{a}/graph?direction=down&depth=2")
        self.assertEqual({n["id"]: n["depth"] for n in g["nodes"]}, {a: 0, b: 1, c: 2})
        g = self.hera.get(f"/api/v1/jobs/{a}/graph?direction=down")
        nodes = {n["id"]: n for n in g["nodes"]}
        self.assertEqual(nodes[d]["depth"], 3)
        self.assertEqual(nodes[d]["why"], "disabled")
        self.assertEqual(len(g["edges"]), 3)

        # Both directions from the middle, one level.
        g = self.hera.get(f"/api/v1/jobs/{b}/graph?direction=both&depth=1")
        self.assertEqual({n["id"]: (n["depth"], n["side"]) for n in g["nodes"]},
                         {b: (0, "root"), a: (1, "up"), c: (1, "down")})

        # A job with neither a cron nor an upstream runs only by hand.
        g = self.hera.get(f"/api/v1/jobs/{manual}/graph")
        self.assertEqual(len(g["nodes"]), 1)
        self.assertIsNone(g["nodes"][0]["today"])
        self.assertEqual(g["nodes"][0]["why"], "no schedule: runs only by hand")
        self.assertEqual(g["edges"], [])

        self.api_error(400, "GET", f"/api/v1/jobs/{c}/graph?direction=sideways")
        self.api_error(400, "GET", f"/api/v1/jobs/{c}/graph?depth=0")
        self.api_error(400, "GET", f"/api/v1/jobs/{c}/graph?depth=51")
        self.api_error(404, "GET", "/api/v1/jobs/9999/graph")

        out = self.ctl("job", "graph", c)
        for name in ("alpha_src", "beta_mid", "gamma_end", "delta_off"):
            self.assertIn(name, out)
        self.assertIn("upstream", out)
        self.assertIn("disabled", out)
        out = self.ctl("job", "graph", c, "--up", "--depth", "1")
        self.assertIn("beta_mid", out)
        self.assertNotIn("alpha_src", out)


if __name__ == "__main__":
    unittest.main()
