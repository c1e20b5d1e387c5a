"""Issue 6, job types on the real binary: each type's command comes from a template the master
fills at dispatch (globally or per host group, `--command`), with Spark options, java options,
jar and arguments from the job's configs; python and java with Debian's own python3 and
OpenJDK, hive and spark_sql with stub binaries that print their arguments and input file; and
run-as another user through sudo (SEMANTICS.md §7)."""

import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest
import uuid

from hera_process import HERA_BIN, ApiError, Hera, Worker

# Debian's own binaries only (no pyenv, no /usr/local): the commands find what apt installed.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# A stand-in for `hive` / `spark-sql`: prints each argument on its own line, then the file
# given after -f, so the run's log shows exactly what the command was.
STUB = textwrap.dedent("""\
    #!/bin/sh
    for a in "$@"; do printf 'ARG %s\\n' "$a"; done
    while [ $# -gt 0 ]; do
      if [ "$1" = -f ]; then printf 'FILE %s\\n' "$2"; cat "$2"; printf '\\nEND\\n'; fi
      shift
    done
    """)

HELLO_JAVA = textwrap.dedent("""\
    public class Hello {
        public static void main(String[] args) {
            System.out.println("greeting=" + System.getProperty("greeting"));
            System.out.println("args=" + String.join("|", args));
        }
    }
    """)


def write_stubs(directory):
    for name in ("hive", "spark-sql", "hive-alt"):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(STUB if name != "hive-alt" else STUB.replace("ARG ", "ALT "))
        os.chmod(path, 0o755)


def args_in(log, prefix="ARG "):
    return [line[len(prefix):] for line in log.splitlines() if line.startswith(prefix)]


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class JobTypesTest(unittest.TestCase):
    """One `hera standalone` for the class: the built-in templates, plus a global override of
    the shell command (`bash -e`)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hera-types-")
        cls.bin = os.path.join(cls.tmp, "bin")
        os.makedirs(cls.bin)
        write_stubs(cls.bin)
        cls.hera = Hera(env={"PATH": cls.bin + ":" + SYSTEM_PATH},
                        extra_args=["--command", "shell=bash -e {script}"]).start()
        cls.group = cls.hera.create_group("types")["id"]

    @classmethod
    def tearDownClass(cls):
        cls.hera.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_job(self, name, script, **fields):
        job = self.hera.create_job(self.group, f"{name}-{uuid.uuid4().hex[:6]}", script,
                                   **fields)
        ticket = self.hera.run_job(job["id"])
        run = self.hera.wait_run(ticket["run_id"])
        return run, self.hera.log(run["id"]) or ""

    def refused(self, name, script, **fields):
        """The message of a save refused because the job's runs would fail (issue 15)."""
        with self.assertRaises(ApiError) as e:
            self.hera.create_job(self.group, f"{name}-{uuid.uuid4().hex[:6]}", script, **fields)
        self.assertEqual(e.exception.status, 400, e.exception.body)
        message = e.exception.body["error"]["message"]
        self.assertIn("the job would fail when it runs: could not build the command", message)
        return message

    def assert_success(self, run, log):
        self.assertEqual(run["status"], "success", f"{run}\nlog:\n{log}")

    # --- each type ----------------------------------------------------------------------------
    def test_python_runs_with_debians_python3(self):
        want = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version)"],
                              capture_output=True, text=True, check=True).stdout.strip()
        run, log = self.run_job("py", "import sys\nprint(sys.version)\nprint(sys.executable)\n"
                                      "print(sys.argv[0])\n", type="python")
        self.assert_success(run, log)
        self.assertEqual(log.splitlines(), [want, "/usr/bin/python3", "script.py"])

    def test_java_runs_a_jar_the_test_builds_with_its_options_and_args(self):
        if not (shutil.which("javac") and shutil.which("jar")):
            self.skipTest("javac and jar are not installed (scripts/install-deps.sh)")
        src = os.path.join(self.tmp, "java")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "Hello.java"), "w") as f:
            f.write(HELLO_JAVA)
        subprocess.run(["javac", "Hello.java"], cwd=src, check=True)
        subprocess.run(["jar", "cfe", "hello.jar", "Hello", "Hello.class"], cwd=src, check=True)
        jar = os.path.join(src, "hello.jar")

        run, log = self.run_job("java", "", type="java", configs={
            "hera.java.jar": jar,
            "hera.java.opts": "-Xmx64m '-Dgreeting=hi there'",
            "hera.java.args": "one 'two words' ${day}",
            "day": "20240301"})
        self.assert_success(run, log)
        self.assertEqual(log.splitlines(), ["greeting=hi there", "args=one|two words|20240301"])

        # Without a jar it would fail at once: refused when saved, saying which config is missing.
        self.assertIn("config hera.java.jar is not set",
                      self.refused("java-nojar", "", type="java"))

    def test_hive_gets_its_rendered_script_after_minus_f(self):
        run, log = self.run_job("hive", "select * from t where dt='${dt}';", type="hive",
                                configs={"dt": "2024-03-01"})
        self.assert_success(run, log)
        self.assertEqual(args_in(log), ["-f", "script.hql"])
        self.assertIn("FILE script.hql\nselect * from t where dt='2024-03-01';\nEND", log)

        # hera.hive.bin names another binary for {hive}.
        run, log = self.run_job("hive-alt", "select 1;", type="hive",
                                configs={"hera.hive.bin": os.path.join(self.bin, "hive-alt")})
        self.assert_success(run, log)
        self.assertEqual(args_in(log, "ALT "), ["-f", "script.hql"])

    def test_spark_sql_gets_the_words_of_hera_spark_conf(self):
        run, log = self.run_job("spark", "select count(*) from orders;", type="spark_sql",
                                configs={"hera.spark.conf":
                                         "--master yarn --conf spark.executor.memory=2g"})
        self.assert_success(run, log)
        self.assertEqual(args_in(log), ["--master", "yarn", "--conf", "spark.executor.memory=2g",
                                        "-f", "script.sql"])
        self.assertIn("FILE script.sql\nselect count(*) from orders;\nEND", log)

        # Quotes group words as a shell would; an unbalanced one fails the run, naming the key.
        run, log = self.run_job("spark-quoted", "select 1;", type="spark_sql", configs={
            "hera.spark.conf": "--conf \"spark.driver.extraJavaOptions=-Da=1 -Db=2\""})
        self.assert_success(run, log)
        self.assertEqual(args_in(log)[:2], ["--conf", "spark.driver.extraJavaOptions=-Da=1 -Db=2"])
        self.assertIn("config hera.spark.conf: unbalanced single quote",
                      self.refused("spark-bad", "select 1;", type="spark_sql",
                                   configs={"hera.spark.conf": "--conf 'x"}))

    def test_the_global_shell_template_replaces_the_built_in_one(self):
        # `bash -e`: the first failing command ends the script.
        run, log = self.run_job("shell", "echo before\nfalse\necho after\n")
        self.assertEqual(run["status"], "failed", run)
        self.assertEqual(log, "before\n")

    # --- run-as -------------------------------------------------------------------------------
    def test_run_as_is_refused_unless_the_master_allows_it(self):
        message = self.refused("runas-off", "id -un", configs={"hera.run_as": "nobody"})
        self.assertIn("run-as is disabled on this master", message)
        self.assertIn("--allow-run-as", message)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class BadCommandFlagsTest(unittest.TestCase):
    def test_a_bad_template_stops_the_start_with_the_reason(self):
        cases = [
            ("spark_sql=spark-sql {sprak_conf} -f {script}", "unknown placeholder {sprak_conf}"),
            ("perl=perl {script}", "unknown job type 'perl'"),
            ("hive=hive -e '{script}", "unbalanced single quote"),
            ("shell", "expected TYPE=TEMPLATE or TYPE@HOSTGROUP=TEMPLATE"),
        ]
        for flag, why in cases:
            with tempfile.TemporaryDirectory(prefix="hera-badcmd-") as data:
                r = subprocess.run([HERA_BIN, "standalone", "--data-dir", data, "--http-port", "0",
                                    "--bind", "127.0.0.1", "--command", flag],
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0, flag)
                self.assertIn(why, r.stderr, flag)
                self.assertIn(f"--command '{flag}'", r.stderr)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class RunAsTest(unittest.TestCase):
    """A job with hera.run_as runs as that user through sudo (needs root and sudo)."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("run-as needs root to create a user and give it the work dir")
        if not shutil.which("sudo") or not shutil.which("useradd"):
            self.skipTest("run-as needs sudo and useradd (scripts/install-deps.sh adds sudo)")
        self.user = f"hera-it-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", self.user],
                       check=True)
        self.addCleanup(subprocess.run, ["userdel", self.user], check=False)
        self.hera = Hera(extra_args=["--allow-run-as"]).start()
        self.addCleanup(self.hera.cleanup)

    def test_the_script_runs_as_the_user_with_the_runs_variables(self):
        group = self.hera.create_group("runas")["id"]
        # It can write beside its script, but not take the worker's log away (a root worker
        # writing through a symlink the job put there would write anywhere).
        job = self.hera.create_job(group, "whoami",
                                   "id -un\necho \"run=$HERA_RUN_ID\"\necho made > mine\n"
                                   "stat -c %U mine\n"
                                   "rm -f output.log 2>/dev/null && echo removed || echo kept\n",
                                   configs={"hera.run_as": self.user})
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        log = self.hera.log(run["id"]) or ""
        self.assertEqual(run["status"], "success", f"{run}\n{log}\n{self.hera.server_log()}")
        self.assertEqual(log.splitlines(), [self.user, f"run={run['id']}", self.user, "kept"])

        # A name that is not a user name never reaches sudo: refused when saved.
        with self.assertRaises(ApiError) as bad:
            self.hera.create_job(group, "bad-user", "id -un",
                                 configs={"hera.run_as": "root; rm -rf /"})
        self.assertEqual(bad.exception.status, 400)
        self.assertIn("is not a Linux user name", bad.exception.body["error"]["message"])


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class HostGroupTemplateTest(unittest.TestCase):
    """A master with a spark_sql template for host group `gpu` only, and two real workers: the
    workers run the argv the master built, whatever their own defaults."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hera-types-cluster-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        stubs = os.path.join(self.tmp, "bin")
        os.makedirs(stubs)
        write_stubs(stubs)
        self.master = Hera(mode="server", extra_args=[
            "--slots", "0", "--max-load-per-core", "1000",
            "--command", "spark_sql@gpu=spark-sql --queue gpu {spark_conf} -f {script}"]).start()
        self.addCleanup(self.master.cleanup)
        env = dict(os.environ, PATH=stubs + ":" + SYSTEM_PATH)
        for worker_id, groups in (("w-default", ("default",)), ("w-gpu", ("gpu",))):
            w = Worker(self.master, worker_id, host_groups=groups, env=env).start()
            self.addCleanup(w.cleanup)
            w.wait_online()
        self.group = self.master.create_group("cluster")["id"]

    def run_spark(self, name, host_group):
        job = self.master.create_job(self.group, name, "select 1;", type="spark_sql",
                                     host_group=host_group,
                                     configs={"hera.spark.conf": "--master yarn"})
        run = self.master.wait_run(self.master.run_job(job["id"])["run_id"])
        log = self.master.log(run["id"]) or ""
        self.assertEqual(run["status"], "success", f"{run}\n{log}")
        return run, log

    def test_the_host_groups_template_wins_there_and_only_there(self):
        run, log = self.run_spark("on-gpu", "gpu")
        self.assertEqual(run["worker"], "w-gpu")
        self.assertEqual(args_in(log), ["--queue", "gpu", "--master", "yarn", "-f", "script.sql"])
        run, log = self.run_spark("elsewhere", "default")
        self.assertEqual(run["worker"], "w-default")
        self.assertEqual(args_in(log), ["--master", "yarn", "-f", "script.sql"])


if __name__ == "__main__":
    unittest.main()
