"""The `mongo-init` script of docker-compose.ha.yml, run under Node.js against a stand-in for the
part of mongosh it uses (no mongod or mongosh here: the `mongo` image is absent).

The stand-in keeps mongosh's contract where it matters: `runCommand` THROWS a MongoServerError
(with `code`/`codeName`) when the server answers `{ok: 0}` (mongosh's runCommandWithCheck), e.g.
`replSetGetStatus` on a set not yet initiated (94 NotYetInitialized).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = ["10.9.0.41:27017", "10.9.0.42:27017", "10.9.0.43:27017"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the mongosh script")

HARNESS = r"""
const vm = require("vm");
const state = JSON.parse(require("fs").readFileSync(0, "utf8"));
const calls = [];
class MongoServerError extends Error {
  constructor(code, codeName, message) { super(message); this.code = code; this.codeName = codeName; }
}
function hostOf(uri) { return uri.replace(/^mongodb:\/\/[^@]*@/, "").split("/")[0]; }
class Mongo {
  constructor(uri) {
    const host = hostOf(uri);
    if ((state.refusals[host] || 0) > 0) {
      state.refusals[host]--;
      throw new Error("connect ECONNREFUSED " + host);
    }
    this.host = host;
  }
  getDB(name) {
    const host = this.host;
    return {
      runCommand(cmd) {
        const name = Object.keys(cmd)[0];
        calls.push(name + "@" + host);
        if (name === "ping") return {ok: 1};
        if (name === "replSetGetStatus") {
          if (!state.config) throw new MongoServerError(94, "NotYetInitialized", "no replset config has been received");
          state.polls++;
          const elected = state.polls > state.pollsBeforePrimary;
          return {ok: 1, members: state.config.members.map((m, i) => ({
            name: m.host, stateStr: elected && i === 0 ? "PRIMARY" : "SECONDARY"}))};
        }
        if (name === "replSetInitiate") {
          if (state.config) throw new MongoServerError(23, "AlreadyInitialized", "already initialized");
          state.config = cmd.replSetInitiate;
          return {ok: 1};
        }
        throw new MongoServerError(59, "CommandNotFound", "no such command: " + name);
      },
      getUser(user) {
        calls.push("getUser@" + host);
        return state.users[name + "." + user] || null;
      },
      createUser(user, writeConcern) {
        calls.push("createUser@" + host);
        if (state.users[name + "." + user.user]) throw new MongoServerError(51003, "Location51003", "already exists");
        state.users[name + "." + user.user] = {roles: user.roles, writeConcern};
        return {ok: 1};
      },
    };
  }
}
const sandbox = {Mongo, process: {env: state.env}, sleep() {}, print() {}, printjson() {}};
let error = null;
try { vm.runInNewContext(state.script, sandbox); } catch (e) { error = String(e); }
console.log(JSON.stringify({error, config: state.config, users: state.users, calls}));
"""


def init_script() -> str:
    compose = YAML(typ="safe").load((ROOT / "docker-compose.ha.yml").read_text())
    service = compose["services"]["mongo-init"]
    assert service["entrypoint"][:2] == ["mongosh", "--quiet"], "the script is mongosh's --eval"
    [script] = service["command"]
    return str(script)


def run_init(*, config=None, users=None, refusals=None, polls_before_primary=2) -> dict:
    state = {"script": init_script(), "config": config, "users": users or {}, "refusals": refusals or {},
             "polls": 0, "pollsBeforePrimary": polls_before_primary,
             "env": {"MONGO_MEMBERS": ",".join(MEMBERS), "MONGO_ROOT_PASSWORD": "r00t/pw",
                     "MONGO_APP_PASSWORD": "app-pw"}}
    done = subprocess.run(["node", "-e", HARNESS], input=json.dumps(state), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_fresh_replica_set_is_initiated_with_every_member_and_gets_the_app_user():
    out = run_init(refusals={MEMBERS[1]: 3})  # one member still starting: dialled again
    assert out["error"] is None, out
    assert out["config"] == {"_id": "rs0", "members": [{"_id": i, "host": h} for i, h in enumerate(MEMBERS)]}
    assert out["users"] == {"app.app": {"roles": [{"role": "readWrite", "db": "app"}],
                                        "writeConcern": {"w": "majority"}}}
    assert out["calls"].count("replSetInitiate@" + MEMBERS[0]) == 1


def test_an_initiated_set_is_left_as_it_is_and_an_existing_user_kept():
    config = {"_id": "rs0", "members": [{"_id": i, "host": h} for i, h in enumerate(MEMBERS)]}
    users = {"app.app": {"roles": [{"role": "readWrite", "db": "app"}], "writeConcern": None}}
    out = run_init(config=config, users=users, polls_before_primary=0)
    assert out["error"] is None, out
    assert not any(c.startswith(("replSetInitiate", "createUser")) for c in out["calls"]), out["calls"]
    assert out["users"] == users


def test_no_primary_within_its_wait_is_an_error_not_a_success():
    out = run_init(polls_before_primary=10_000)
    assert out["error"] is not None and "no PRIMARY" in out["error"], out
    assert out["users"] == {}, "no user is created without a primary"
