"""Resources and downloads (issue 6 item 4, SEMANTICS.md §7 step 1): multipart uploads into the
versioned resource store, `hera ctl resource`, and `download[uri name]` of hera://, http://,
file:// and hdfs:// fetched into a run's work directory before it starts, on standalone and on
a remote worker; bad names, oversized uploads and missing resources refused with nothing
written and no script run."""

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
import uuid

from hera_process import HERA_BIN, ApiError, Hera, Worker


def multipart(files, fields=()):
    """A multipart/form-data body built by hand, as curl -F would send it."""
    boundary = "----hera-test-" + uuid.uuid4().hex
    body = b""
    for name, value in fields:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                 .encode() + value.encode() + b"\r\n")
    for field, filename, data in files:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + data + b"\r\n")
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(hera, data, filename="file.bin", name=None):
    body, ctype = multipart([("file", filename, data)], [("name", name)] if name else ())
    return hera.request("POST", "/api/v1/resources", raw=body, headers={"Content-Type": ctype})


def files_under(root):
    """Every file below `root`, relative to it."""
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    return sorted(out)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class FileServer:
    """python's http.server on 127.0.0.1, serving one directory."""

    def __init__(self, directory):
        handler = lambda *a, **kw: QuietHandler(*a, directory=directory, **kw)  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class ResourcesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hera-resources-")
        self.servers = []
        self.hera = self.start(Hera())
        self.group = self.hera.create_group("res")["id"]

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, hera):
        self.servers.append(hera)
        return hera.start()

    def resources_dir(self, hera=None):
        return os.path.join((hera or self.hera).data_dir, "resources")

    def run_script(self, script, hera=None, group=None):
        hera = hera or self.hera
        job = hera.create_job(group or self.group, "j" + uuid.uuid4().hex[:8], script)
        run = hera.wait_run(hera.run_job(job["id"])["run_id"])
        return run, hera.log(run["id"]) or ""

    def ctl(self, *args):
        env = dict(os.environ, HERA_SERVER=self.hera.base, HERA_TOKEN=self.hera.token,
                   HERA_CONFIG_DIR=os.path.join(self.tmp, "ctl"))
        r = subprocess.run([HERA_BIN, "ctl", *args], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, f"hera ctl {args}: {r.stdout}{r.stderr}")
        return r.stdout

    # --- the store ------------------------------------------------------------------------------
    def test_upload_list_show_and_versions(self):
        v1 = upload(self.hera, b"greet() { echo v1; }\n", filename="lib.sh")
        self.assertEqual(v1["name"], "lib.sh")  # from the filename
        self.assertEqual(v1["version"], 1)
        self.assertEqual(v1["uri"], "hera://lib.sh")
        self.assertEqual(v1["size"], 21)
        self.assertEqual(v1["sha256"], hashlib.sha256(b"greet() { echo v1; }\n").hexdigest())
        self.assertEqual(v1["uploader"], "admin")
        # Binary content, with bytes that look like multipart framing, under a chosen name.
        blob = bytes(range(256)) * 64 + b"\r\n------hera-test-\r\n\x00"
        v2 = upload(self.hera, blob, filename="ignored.bin", name="lib.sh")
        self.assertEqual(v2["version"], 2)
        self.assertEqual(v2["sha256"], hashlib.sha256(blob).hexdigest())
        upload(self.hera, b"x", filename="other.txt")

        items = self.hera.get("/api/v1/resources")["items"]
        self.assertEqual([(i["name"], i["version"]) for i in items],
                         [("lib.sh", 2), ("other.txt", 1)])
        show = self.hera.get("/api/v1/resources/lib.sh")
        self.assertEqual(show["latest"], 2)
        self.assertEqual([v["version"] for v in show["versions"]], [1, 2])
        self.assertEqual(self.raw_content("/api/v1/resources/lib.sh/content"), blob)
        self.assertEqual(self.raw_content("/api/v1/resources/lib.sh/content?version=1"),
                         b"greet() { echo v1; }\n")
        with self.assertRaises(ApiError) as cm:
            self.hera.get("/api/v1/resources/lib.sh/content?version=9")
        self.assertEqual(cm.exception.status, 404)
        self.assertIn("has no version 9", cm.exception.body["error"]["message"])
        with self.assertRaises(ApiError) as cm:
            self.hera.get("/api/v1/resources", token=False)
        self.assertEqual(cm.exception.status, 401)

        # The same through hera ctl.
        path = os.path.join(self.tmp, "udf.jar")
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 not really a jar")
        out = self.ctl("resource", "upload", path)
        self.assertIn("uploaded hera://udf.jar version 1", out)
        out = self.ctl("resource", "upload", path, "--name", "lib.sh")
        self.assertIn("uploaded hera://lib.sh version 3", out)
        out = self.ctl("resource", "list")
        self.assertIn("udf.jar", out)
        self.assertIn("other.txt", out)
        out = self.ctl("resource", "show", "lib.sh")
        self.assertIn("hera://lib.sh (latest: version 3)", out)
        shown = json.loads(self.ctl("--json", "resource", "show", "lib.sh"))
        self.assertEqual([v["version"] for v in shown["versions"]], [1, 2, 3])

    def raw_content(self, path):
        import urllib.request
        req = urllib.request.Request(self.hera.base + path)
        req.add_header("Authorization", "Bearer " + self.hera.token)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    def test_bad_names_and_bodies_are_refused_and_nothing_is_written(self):
        before = files_under(self.resources_dir())
        for name in ("../evil.sh", "a/../../b", "../../../tmp/x", ".hidden", "a\\b", "two words"):
            with self.assertRaises(ApiError) as cm:
                upload(self.hera, b"#!/bin/sh\n", name=name)
            self.assertEqual(cm.exception.status, 400, name)
            self.assertIn("resource name", cm.exception.body["error"]["message"])
        # A bad name in the filename, when no name field is given.
        with self.assertRaises(ApiError) as cm:
            upload(self.hera, b"x", filename="../evil.sh")
        self.assertEqual(cm.exception.status, 400)
        # Not multipart, no file field, a truncated body.
        no_file, no_file_type = multipart([], [("name", "x")])
        whole, whole_type = multipart([("file", "t.txt", b"abc")])
        bad_bodies = [
            (b'{"file": "x"}', "application/json", "multipart/form-data"),
            (no_file, no_file_type, "no 'file' field"),
            (whole[:-20], whole_type, "truncated"),
        ]
        for raw, ctype, error in bad_bodies:
            with self.assertRaises(ApiError) as cm:
                self.hera.request("POST", "/api/v1/resources", raw=raw,
                                  headers={"Content-Type": ctype})
            self.assertEqual(cm.exception.status, 400)
            self.assertIn(error, cm.exception.body["error"]["message"])
        self.assertEqual(files_under(self.resources_dir()), before)
        self.assertFalse(os.path.exists(os.path.join(self.hera.data_dir, "evil.sh")))

    def test_oversized_uploads_are_413_and_nothing_is_written(self):
        small = self.start(Hera(extra_args=["--max-upload-mb", "1"]))
        mib = 1 << 20
        # Just over the limit: the body fits the HTTP limit (limit + framing), the store refuses.
        with self.assertRaises(ApiError) as cm:
            upload(small, b"x" * (mib + 1), filename="big.bin")
        self.assertEqual(cm.exception.status, 413)
        self.assertIn("upload limit is 1048576 bytes", cm.exception.body["error"]["message"])
        # Far over: the server refuses the body as soon as it sees its length.
        with self.assertRaises(ApiError) as cm:
            upload(small, b"x" * (3 * mib), filename="huge.bin")
        self.assertEqual(cm.exception.status, 413)
        self.assertIn("upload limit of 1048576 bytes", cm.exception.body["error"]["message"])
        self.assertEqual(files_under(self.resources_dir(small)), [])
        # Exactly the limit is fine.
        self.assertEqual(upload(small, b"x" * mib, filename="fits.bin")["size"], mib)

    # --- downloads ------------------------------------------------------------------------------
    def test_hera_download_is_sourced_by_the_script(self):
        upload(self.hera, b"greet() { echo \"hello from lib v$1\"; }\n", filename="lib.sh")
        run, log = self.run_script("download[hera://lib.sh lib.sh]\nsource lib.sh\ngreet 1\n")
        self.assertEqual(run["status"], "success", log + self.hera.server_log())
        self.assertIn("hello from lib v1", log)
        # A pinned version, and the name defaulting to the URI's last segment.
        upload(self.hera, b"greet() { echo v2; }\n", filename="lib.sh")
        run, log = self.run_script("download[hera://lib.sh?version=1 old.sh]\n"
                                   "download[hera://lib.sh]\nsource old.sh; greet 1\n"
                                   "source lib.sh; greet\n")
        self.assertEqual(run["status"], "success", log)
        self.assertIn("hello from lib v1\nv2\n", log)

    def test_http_and_file_downloads(self):
        served = os.path.join(self.tmp, "www")
        os.makedirs(served)
        with open(os.path.join(served, "data.csv"), "w") as f:
            f.write("id,name\n1,hera\n")
        server = FileServer(served)
        try:
            run, log = self.run_script(
                f"download[http://127.0.0.1:{server.port}/data.csv data.csv]\ncat data.csv\n")
            self.assertEqual(run["status"], "success", log)
            self.assertIn("1,hera", log)
            marker = os.path.join(self.tmp, "ran-404")
            run, log = self.run_script(
                f"download[http://127.0.0.1:{server.port}/missing.csv m.csv]\ntouch {marker}\n")
            self.assertEqual(run["status"], "failed")
            self.assertIn(f"download http://127.0.0.1:{server.port}/missing.csv failed: HTTP 404",
                          run["message"])
            self.assertFalse(os.path.exists(marker), "the script must not run")
        finally:
            server.stop()
        local = os.path.join(self.tmp, "input.txt")
        with open(local, "w") as f:
            f.write("local bytes\n")
        run, log = self.run_script(f"download[file://{local} in.txt]\ncat in.txt\n")
        self.assertEqual(run["status"], "success", log)
        self.assertIn("local bytes", log)

    def test_hdfs_download_runs_the_hdfs_command_on_path(self):
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        record = os.path.join(self.tmp, "hdfs-args")
        with open(os.path.join(bin_dir, "hdfs"), "w") as f:
            f.write("#!/bin/bash\n"
                    f"printf '%s\\n' \"$@\" >> {record}\n"
                    "case \"$3\" in *missing*) echo \"get: $3: No such file\" >&2; exit 1;; esac\n"
                    "echo \"udf from $3\" > \"$4\"\n")
        os.chmod(os.path.join(bin_dir, "hdfs"), 0o755)
        path = os.environ["PATH"]
        os.environ["PATH"] = bin_dir + os.pathsep + path
        try:
            hera = self.start(Hera())
        finally:
            os.environ["PATH"] = path
        group = hera.create_group("hdfs")["id"]
        run, log = self.run_script("download[hdfs:///user/hera/udf.jar udf.jar]\ncat udf.jar\n",
                                   hera=hera, group=group)
        self.assertEqual(run["status"], "success", log + hera.server_log())
        self.assertIn("udf from hdfs:///user/hera/udf.jar", log)
        with open(record) as f:
            args = f.read().splitlines()
        self.assertEqual(args[:3], ["dfs", "-get", "hdfs:///user/hera/udf.jar"])
        self.assertTrue(args[3].startswith(os.path.join(hera.data_dir, "worker", "work")))
        run, _ = self.run_script("download[hdfs:///missing.jar m.jar]\necho ran\n",
                                 hera=hera, group=group)
        self.assertEqual(run["status"], "failed")
        self.assertIn("download hdfs:///missing.jar failed", run["message"])
        self.assertIn("No such file", run["message"])

    def test_a_missing_resource_fails_the_run_before_the_script(self):
        marker = os.path.join(self.tmp, "ran")
        run, log = self.run_script(f"download[hera://nope.sh nope.sh]\ntouch {marker}\n")
        self.assertEqual(run["status"], "failed")
        self.assertIn('download hera://nope.sh failed: no resource "nope.sh"', run["message"])
        self.assertFalse(os.path.exists(marker), "the script must not run")
        self.assertIsNone(run["exit_code"])

    def test_a_remote_worker_fetches_hera_resources_from_the_master(self):
        # The load limit is the scheduler's to test; a busy test machine must not hold runs.
        master = self.start(Hera(mode="server", extra_args=["--slots", "0",
                                                            "--max-load-per-core", "1000"]))
        worker = Worker(master, "w-res").start()
        try:
            worker.wait_online()
            body, ctype = multipart([("file", "lib.sh", b"greet() { echo remote hello; }\n")])
            master.request("POST", "/api/v1/resources", raw=body, headers={"Content-Type": ctype})
            group = master.create_group("remote")["id"]
            run, log = self.run_script("download[hera://lib.sh lib.sh]\nsource lib.sh\ngreet\n",
                                       hera=master, group=group)
            self.assertEqual(run["status"], "success", log + worker.log())
            self.assertEqual(run["worker"], "w-res")
            self.assertIn("remote hello", log)
            marker = os.path.join(self.tmp, "remote-ran")
            run, _ = self.run_script(f"download[hera://gone.sh gone.sh]\ntouch {marker}\n",
                                     hera=master, group=group)
            self.assertEqual(run["status"], "failed")
            self.assertIn('download hera://gone.sh failed: HTTP 404: no resource "gone.sh"',
                          run["message"])
            self.assertFalse(os.path.exists(marker))
            # The workers' route wants the cluster token, not a user's session.
            with self.assertRaises(ApiError) as cm:
                master.get("/internal/v1/resources/lib.sh/content")
            self.assertEqual(cm.exception.status, 401)
            content = master.get("/internal/v1/resources/lib.sh/content", token=False,
                                 headers={"Authorization": "Bearer " + master.cluster_token})
            self.assertIn("remote hello", content)
        finally:
            worker.cleanup()


if __name__ == "__main__":
    unittest.main()
