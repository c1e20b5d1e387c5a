"""Issue 6 on the real binary: scripts rendered at dispatch in Hera's order (configs inherited
from groups, ${zdt...} macros), previews that render without running, effective configs with
their sources, and secret.* configs encrypted at rest, exported as variables and masked in the
API and the stored logs (SEMANTICS.md §7)."""

import datetime
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
import unittest

from hera_process import HERA_BIN, ApiError, Hera

SECRET = "s3cr3t-Pa55word"

SCRIPT = (
    'echo "day=${zdt.addDay(-1).format("yyyyMMdd")}"\n'
    'echo "queue=${queue} target=${target} biz=${bizdate}"\n'
)


def yesterday(iso, fmt):
    t = datetime.datetime.fromisoformat(iso).astimezone(datetime.timezone.utc)
    return (t - datetime.timedelta(days=1)).strftime(fmt)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class RenderSecretsTest(unittest.TestCase):
    def setUp(self):
        self.hera = Hera().start()
        self.addCleanup(self.hera.cleanup)
        self.config_dir = tempfile.mkdtemp(prefix="hera-render-ctl-")
        self.addCleanup(shutil.rmtree, self.config_dir, True)
        self.root = self.hera.post("/api/v1/groups", {
            "name": "root", "configs": {"env": "prod", "queue": "default"}})
        self.team = self.hera.post("/api/v1/groups", {
            "name": "team", "parent_id": self.root["id"],
            "configs": {"queue": "team", "bizdate": '${zdt.addDay(-1).format("yyyy-MM-dd")}'}})

    def ctl(self, *args, check=True):
        env = {k: v for k, v in os.environ.items() if k not in ("HERA_SERVER", "HERA_TOKEN")}
        env.update(HERA_CONFIG_DIR=self.config_dir, NO_COLOR="1")
        r = subprocess.run([HERA_BIN, "ctl", "--server", self.hera.base, "--token",
                            self.hera.token] + [str(a) for a in args],
                           capture_output=True, text=True, env=env, timeout=30)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def api_error(self, status, method, path, body=None):
        with self.assertRaises(ApiError) as cm:
            self.hera.request(method, path, body)
        self.assertEqual(cm.exception.status, status, cm.exception.body)
        return cm.exception.body["error"]["message"]

    def run_to_end(self, job_id):
        ticket = self.hera.run_job(job_id)
        return ticket, self.hera.wait_run(ticket["run_id"])

    # --- rendering ----------------------------------------------------------------------------
    def test_configs_and_macros_render_at_dispatch_and_in_the_preview(self):
        job = self.hera.create_job(self.team["id"], "load", SCRIPT,
                                   configs={"queue": "etl", "target": "dw_${env}"},
                                   schedule={"timezone": "UTC"})
        ticket, run = self.run_to_end(job["id"])
        self.assertEqual(run["status"], "success", run)
        action = self.hera.get(f"/api/v1/actions/{ticket['action_id']}")
        day = yesterday(action["scheduled_time"], "%Y%m%d")
        biz = yesterday(action["scheduled_time"], "%Y-%m-%d")
        self.assertEqual(self.hera.log(run["id"]),
                         f"day={day}\nqueue=etl target=dw_prod biz={biz}\n")

        # The preview renders the same text for that action, without running anything.
        preview = self.hera.get(f"/api/v1/actions/{ticket['action_id']}/preview")
        self.assertEqual(preview["script"],
                         f'echo "day={day}"\necho "queue=etl target=dw_prod biz={biz}"\n')
        self.assertEqual(preview["job_id"], job["id"])
        self.assertEqual(preview["action_id"], ticket["action_id"])
        self.assertEqual(preview["timezone"], "UTC")
        self.assertEqual(preview["downloads"], [])
        # At a chosen time, through the job endpoint and hera ctl.
        at = self.hera.get(f"/api/v1/jobs/{job['id']}/preview?time=2024-03-01T00:30:00")
        self.assertIn('echo "day=20240229"', at["script"])
        self.assertIn("biz=2024-02-29", at["script"])
        out = self.ctl("job", "preview", job["id"], "--time", "2024-03-01T00:30:00")
        self.assertEqual(out.stdout, at["script"])
        self.assertIn("rendered for 2024-03-01T00:30:00", out.stderr)
        out = self.ctl("job", "preview", job["id"], "--action", ticket["action_id"])
        self.assertEqual(out.stdout, preview["script"])
        self.assertEqual(self.hera.get(f"/api/v1/runs?job_id={job['id']}")["total"], 1,
                         "a preview must not run the job")

    def test_a_dependent_chain_renders_the_date_of_the_zone_its_times_come_from(self):
        # A daily extract at 01:30 in Shanghai on this UTC server; the transform and the load
        # below it name no zone and have no cron (issue 15: they rendered a UTC date).
        script = 'echo "day=${zdt.addDay(-1).format("yyyy-MM-dd")}"\n'
        extract = self.hera.create_job(self.team["id"], "extract", script, enabled=True,
                                       schedule={"cron": "0 30 1 * * ?",
                                                 "timezone": "Asia/Shanghai"})
        transform = self.hera.create_job(self.team["id"], "transform", script, enabled=True,
                                         schedule={"depends_on": [{"job_id": extract["id"]}]})
        load = self.hera.create_job(self.team["id"], "load", script, enabled=True,
                                    schedule={"depends_on": [{"job_id": transform["id"]}]})
        zone = self.hera.get(f"/api/v1/jobs/{load['id']}")["effective_timezone"]
        self.assertEqual(zone["name"], "Asia/Shanghai")
        self.assertEqual(zone["inherited_from"], transform["id"])
        self.assertIn("inherited from upstream job", zone["reason"])
        self.assertEqual(self.hera.get(f"/api/v1/jobs/{extract['id']}")["effective_timezone"],
                         {"name": "Asia/Shanghai", "reason": "the job's own zone",
                          "inherited_from": None})

        # Tomorrow's actions of the three share one time; each runs (as a recovery) and
        # prints the day before that time in Shanghai.
        days = {}
        for job in (extract, transform, load):
            actions = self.hera.get(f"/api/v1/jobs/{job['id']}/actions")["items"]
            action = max(actions, key=lambda a: a["scheduled_time"])
            preview = self.hera.get(f"/api/v1/actions/{action['id']}/preview")
            self.assertEqual(preview["timezone"], "Asia/Shanghai", job["name"])
            self.assertIn(preview["timezone_reason"].split(" ")[0], ("the", "inherited"))
            ticket = self.hera.post(f"/api/v1/jobs/{job['id']}/run",
                                    {"trigger": "recovery", "action_id": action["id"]})
            run = self.hera.wait_run(ticket["run_id"])
            self.assertEqual(run["status"], "success", run)
            days[job["name"]] = (action["scheduled_time"], self.hera.log(run["id"]).strip())
        self.assertEqual(len({t for t, _ in days.values()}), 1, days)
        at = datetime.datetime.fromisoformat(days["extract"][0]).astimezone(
            datetime.timezone(datetime.timedelta(hours=8)))
        expected = "day=" + (at - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        self.assertEqual({log for _, log in days.values()}, {expected}, days)

    def test_effective_configs_show_where_each_value_comes_from(self):
        job = self.hera.create_job(self.team["id"], "load", "true",
                                   configs={"queue": "etl", "secret.db_password": SECRET})
        eff = self.hera.get(f"/api/v1/jobs/{job['id']}/configs/effective")
        items = {i["key"]: i for i in eff["items"]}
        self.assertEqual(sorted(items), ["bizdate", "env", "queue", "secret.db_password"])
        self.assertEqual((items["queue"]["value"], items["queue"]["source"]), ("etl", "job"))
        self.assertEqual(items["env"]["source"], f"group:{self.root['id']}")
        self.assertEqual(items["env"]["group_name"], "root")
        self.assertEqual(items["bizdate"]["source"], f"group:{self.team['id']}")
        self.assertEqual(items["bizdate"]["group_name"], "team")
        self.assertEqual(items["secret.db_password"]["value"], "******")
        self.assertEqual(items["secret.db_password"]["env"], "DB_PASSWORD")
        table = self.ctl("job", "configs", job["id"]).stdout
        self.assertRegex(table, r"queue\s+etl\s+job")
        self.assertRegex(table, rf"env\s+prod\s+group {self.root['id']} \(root\)")
        self.assertIn("******", table)
        self.assertNotIn(SECRET, table)
        as_json = json.loads(self.ctl("--json", "job", "configs", job["id"]).stdout)
        self.assertEqual(len(as_json["items"]), 4)

    # --- secrets ------------------------------------------------------------------------------
    def test_a_secret_is_exported_masked_and_never_returned(self):
        digest = hashlib.sha256(SECRET.encode()).hexdigest()
        script = 'echo "pw=$DB_PASSWORD"\nprintf %s "$DB_PASSWORD" | sha256sum\n'
        job = self.hera.create_job(self.team["id"], "secretive", script,
                                   configs={"secret.db_password": SECRET, "plain": "x"})
        self.assertEqual(job["configs"]["secret.db_password"], "******")
        _, run = self.run_to_end(job["id"])
        self.assertEqual(run["status"], "success", run)
        log = self.hera.log(run["id"])
        self.assertIn("pw=******", log)
        self.assertNotIn(SECRET, log)
        self.assertIn(digest, log, "the run got the real value")
        for path in glob.glob(os.path.join(self.hera.data_dir, "logs", "*", "*.log")):
            with open(path, "rb") as f:
                self.assertNotIn(SECRET.encode(), f.read(), path)
        # Standalone keeps one copy of a log, the master's: none in the work directory.
        self.assertEqual(glob.glob(os.path.join(self.hera.data_dir, "worker", "work", "*",
                                                "output.log")), [])

        # Editing the job with what the API shows keeps the secret.
        shown = self.hera.get(f"/api/v1/jobs/{job['id']}")
        edited = self.hera.request("PATCH", f"/api/v1/jobs/{job['id']}",
                                   {"configs": shown["configs"], "description": "edited"})
        self.assertEqual(edited["configs"]["secret.db_password"], "******")
        _, again = self.run_to_end(job["id"])
        self.assertIn(digest, self.hera.log(again["id"]))

        # No response carries the value or its encrypted form.
        self.hera.request("PATCH", f"/api/v1/jobs/{job['id']}",
                          {"configs": {"secret.db_password": "changed-value", "plain": "x"}})
        jid = job["id"]
        responses = [
            self.hera.get(f"/api/v1/jobs/{jid}"),
            self.hera.get(f"/api/v1/jobs?group_id={self.team['id']}"),
            self.hera.get(f"/api/v1/jobs/{jid}/revisions"),
            self.hera.get(f"/api/v1/jobs/{jid}/revisions/1"),
            self.hera.get(f"/api/v1/jobs/{jid}/revisions/3/diff"),
            self.hera.get(f"/api/v1/jobs/{jid}/configs/effective"),
            self.hera.get(f"/api/v1/jobs/{jid}/preview"),
        ]
        diff = {c["field"]: c for c in responses[4]["changes"]}
        self.assertEqual(diff["configs.secret.db_password"]["after"], "******",
                         "a changed secret is listed, masked")
        for body in responses:
            text = json.dumps(body)
            self.assertNotIn(SECRET, text)
            self.assertNotIn("changed-value", text)
            self.assertNotIn("enc:v1", text)
        self.assertEqual(responses[6]["env"], {"DB_PASSWORD": "******"})
        # Nor does the store hold the plaintext: it is encrypted at rest.
        for path in glob.glob(os.path.join(self.hera.data_dir, "hera.db*")):
            with open(path, "rb") as f:
                data = f.read()
            self.assertNotIn(SECRET.encode(), data, path)
            self.assertNotIn(b"changed-value", data, path)
        key = os.path.join(self.hera.data_dir, "secret.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(os.path.getsize(key), 32)

    def test_secrets_survive_a_restart_and_a_loose_key_file_stops_the_start(self):
        job = self.hera.create_job(self.team["id"], "s", 'test "$TOKEN" = abc && echo same\n',
                                   configs={"secret.token": "abc"})
        self.hera.stop()
        again = Hera(data_dir=self.hera.data_dir).start()
        self.addCleanup(again.stop)
        run = again.wait_run(again.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "success", again.log(run["id"]))
        again.stop()

        key = os.path.join(self.hera.data_dir, "secret.key")
        os.chmod(key, 0o644)
        with self.assertRaises(RuntimeError) as cm:
            Hera(data_dir=self.hera.data_dir).start()
        self.assertIn("chmod 600", str(cm.exception))

    # --- bad inputs ---------------------------------------------------------------------------
    def test_a_bad_macro_is_refused_when_saved_with_the_error_a_run_would_give(self):
        cases = [
            ('${zdt.addDays(-1).format("yyyyMMdd")}', "${zdt.addDays(-1)"),   # unknown method
            ('${zdt.addDay(-1).format("yyyyMMdd")', "unbalanced"),              # no closing }
        ]
        for i, (macro, named) in enumerate(cases):
            message = self.api_error(400, "POST", "/api/v1/jobs", {
                "name": f"bad{i}", "group_id": self.team["id"], "type": "shell",
                "script": f"echo {macro}\n"})
            self.assertIn("the job would fail when it runs: could not render the script", message)
            self.assertIn(named, message)
        good = self.hera.create_job(self.team["id"], "good", "echo ok\n")
        message = self.api_error(400, "PATCH", f"/api/v1/jobs/{good['id']}",
                                 {"script": "download[hdfs:///jars/udf.jar\necho ok\n"})
        self.assertIn("line 1: download[hdfs:///jars/udf.jar has no closing ']'", message)
        message = self.api_error(400, "PATCH", f"/api/v1/groups/{self.team['id']}",
                                 {"configs": {"a": "${b}", "b": "${a}"}})
        self.assertIn("config reference cycle", message)
        # Nothing of it was saved.
        self.assertEqual(self.hera.get("/api/v1/jobs")["total"], 1)
        self.assertEqual(self.hera.get(f"/api/v1/jobs/{good['id']}")["version"], 1)
        self.assertNotIn("a", self.hera.get(f"/api/v1/groups/{self.team['id']}")["configs"])

    def test_a_job_stored_with_a_bad_macro_fails_the_preview_and_the_run_and_nothing_runs(self):
        # Saved by a version that did not check scripts: the run still fails cleanly.
        marker_dir = tempfile.mkdtemp(prefix="hera-render-marker-")
        self.addCleanup(shutil.rmtree, marker_dir, True)
        marker = os.path.join(marker_dir, "ran")
        job = self.hera.create_job(self.team["id"], "bad", "echo ok\n")
        self.hera.stop()
        with sqlite3.connect(os.path.join(self.hera.data_dir, "hera.db")) as db:
            db.execute("UPDATE jobs SET definition = json_set(definition, '$.script', ?) "
                       "WHERE id = ?",
                       (f'touch {marker}\necho ${{zdt.addDays(-1).format("yyyyMMdd")}}\n',
                        job["id"]))
        self.hera.start()
        message = self.api_error(400, "GET", f"/api/v1/jobs/{job['id']}/preview")
        self.assertIn("could not render the script", message)
        self.assertIn("${zdt.addDays(-1)", message)

        ticket, run = self.run_to_end(job["id"])
        self.assertEqual(run["status"], "failed")
        self.assertIn("could not render the script", run["message"])
        self.assertIn("${zdt.addDay", run["message"])
        self.assertEqual(run["exit_code"], None)
        self.assertFalse(os.path.exists(marker), "the script must not have run")
        self.assertIn("could not render the script", self.hera.log(run["id"]))
        action = self.hera.get(f"/api/v1/actions/{ticket['action_id']}")
        self.assertEqual(action["status"], "failed")
        self.api_error(400, "GET", f"/api/v1/actions/{ticket['action_id']}/preview")
        r = self.ctl("job", "preview", job["id"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("could not render the script", r.stderr)
        # Disabling or enabling such a job still works: only what changes is checked.
        self.hera.post(f"/api/v1/jobs/{job['id']}/enable")
        self.hera.post(f"/api/v1/jobs/{job['id']}/disable")

    def test_bad_secret_saves_are_refused(self):
        message = self.api_error(400, "POST", "/api/v1/jobs", {
            "name": "m", "group_id": self.team["id"], "script": "true",
            "configs": {"secret.new": "******"}})
        self.assertIn("configs.secret.new", message)
        message = self.api_error(400, "POST", "/api/v1/jobs", {
            "name": "h", "group_id": self.team["id"], "script": "true",
            "configs": {"secret.hera_run_id": "x"}})
        self.assertIn("reserved", message)
        message = self.api_error(400, "POST", "/api/v1/jobs", {
            "name": "e", "group_id": self.team["id"], "script": "true",
            "configs": {"secret.x": "enc:v1:AAAA"}})
        self.assertIn("configs.secret.x", message)
        self.assertEqual(self.hera.get("/api/v1/jobs")["total"], 0, "nothing was saved")

    def test_group_secrets_are_inherited_and_masked(self):
        group = self.hera.request("PATCH", f"/api/v1/groups/{self.team['id']}",
                                  {"configs": {"secret.api_key": "k-123456"}})
        self.assertEqual(group["configs"], {"secret.api_key": "******"})
        job = self.hera.create_job(self.team["id"], "g", 'echo "key=$API_KEY"\n')
        _, run = self.run_to_end(job["id"])
        self.assertEqual(run["status"], "success", run)
        self.assertEqual(self.hera.log(run["id"]), "key=********\n")
        self.assertNotIn("k-123456", json.dumps(self.hera.get("/api/v1/groups")))


if __name__ == "__main__":
    unittest.main()
