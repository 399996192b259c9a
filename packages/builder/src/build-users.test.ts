import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { createBuildUsersCommand, parseBuildUsers, readBuildUsers } from "./build-users.ts";

test("the command creates a system group and N users without shell or home", () => {
  const command = createBuildUsersCommand({ count: 3 });
  assert.match(command, /^groupadd --system kilnbuild\n/);
  assert.match(command, /\$\(seq 1 3\)/);
  assert.match(
    command,
    /useradd -g kilnbuild -G kilnbuild -d \/var\/empty -M -s "\$\(command -v nologin\)"/,
  );
  assert.match(command, /-c "Kiln build user \$i" --system "kilnbuilder\$i"/);
});

test("names that could break the shell command are refused", () => {
  assert.throws(() => createBuildUsersCommand({ group: "a;rm -rf /" }), KilnError);
  assert.throws(() => createBuildUsersCommand({ prefix: "$(id)" }), /not a valid name/);
  assert.throws(() => createBuildUsersCommand({ count: 0 }), /cannot create 0/);
  assert.throws(() => createBuildUsersCommand({ count: 1.5 }), KilnError);
});

test("running the command creates users that readBuildUsers finds", (t) => {
  if (process.getuid?.() !== 0 || spawnSync("groupadd", ["--help"]).status !== 0) {
    t.skip("needs root and the shadow tools");
    return;
  }
  // shadow's --prefix applies the changes to a scratch /etc instead of the host's.
  const prefix = mkdtempSync(join(tmpdir(), "kiln-users-"));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const etc = join(prefix, "etc");
  mkdirSync(etc);
  for (const name of ["passwd", "group", "shadow", "gshadow"]) writeFileSync(join(etc, name), "");
  const wrappers = `groupadd() { command groupadd --prefix '${prefix}' "$@"; }
useradd() { command useradd --prefix '${prefix}' "$@"; }
`;
  const command = createBuildUsersCommand({ group: "kbtest", count: 3, prefix: "kbtester" });
  const run = spawnSync("sh", ["-ec", wrappers + command], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const users = readBuildUsers("kbtest", { etcDir: etc });
  assert.deepEqual(
    users.map((user) => user.name),
    ["kbtester1", "kbtester2", "kbtester3"],
  );
  assert.equal(new Set(users.map((user) => user.uid)).size, 3);
  assert.ok(users.every((user) => user.uid > 0 && user.gid === users[0].gid));
  const passwd = readFileSync(join(etc, "passwd"), "utf8");
  assert.match(passwd, /^kbtester1:x:\d+:\d+:Kiln build user 1:\/var\/empty:\S*nologin$/m);
});

const GROUP = "root:x:0:\nkilnbuild:x:30000:kb1,kb2\nempty:x:30001:\n";
const PASSWD =
  "root:x:0:0:root:/root:/bin/bash\n" +
  "kb1:x:30001:30000:Kiln build user 1:/var/empty:/usr/sbin/nologin\n" +
  "kb2:x:30002:30000:Kiln build user 2:/var/empty:/usr/sbin/nologin\n";

test("parses the group's members with the group's gid", () => {
  assert.deepEqual(parseBuildUsers(GROUP, PASSWD, "kilnbuild"), [
    { name: "kb1", uid: 30001, gid: 30000 },
    { name: "kb2", uid: 30002, gid: 30000 },
  ]);
});

test("a missing or empty group, a ghost member or root as a member are errors", () => {
  assert.throws(() => parseBuildUsers(GROUP, PASSWD, "nope"), /does not exist/);
  assert.throws(() => parseBuildUsers(GROUP, PASSWD, "empty"), /has no members/);
  assert.throws(() => parseBuildUsers("g:x:5:ghost\n", PASSWD, "g"), /"ghost" .* does not exist/);
  assert.throws(() => parseBuildUsers("g:x:5:root\n", PASSWD, "g"), /root must not be a member/);
  try {
    parseBuildUsers(GROUP, PASSWD, "nope");
  } catch (error) {
    assert.match((error as KilnError).hint ?? "", /groupadd --system nope/);
  }
});
