// Who evaluated names for sealed warnings (docs/protocol.md §36.4): the admins open the
// notes of the verified log's evaluation records; members are refused; a note that does not
// open is listed without a name; a log that does not verify shows nothing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { b64 } from "../../src/protocol/encoding.js";
import { auditRow, makeWorld, refused } from "../../test-support/world.js";

const EVALUATIONS = [
  { user: "bob", elements: 2 },
  { user: "bob", elements: 4 },
  { user: "carol", elements: 1 },
  { note: b64(new Uint8Array(80)) }, // the server's junk: it made the note
];

test("an admin sees who evaluated how many name forms and when", async () => {
  const world = makeWorld({ evaluations: EVALUATIONS });
  const rows = await world.alice().audit.evaluations(world.circleId);
  assert.deepEqual(
    rows.map((r) => [r.seq, r.user, r.forms]),
    [
      [6, "bob", 2],
      [7, "bob", 4],
      [8, "carol", 1],
      [9, null, null],
    ],
  );
  assert.ok(rows.every((r) => r.at === "2025-01-01T00:00:00.000000Z"));
});

test("a member cannot read who evaluated names", async () => {
  const world = makeWorld({ evaluations: EVALUATIONS });
  await refused(world.bob().audit.evaluations(world.circleId), "not_a_moderator");
});

test("evaluation records the server changed do not verify: nothing is shown", async () => {
  const world = makeWorld({ evaluations: EVALUATIONS });
  world.server.on("GET", `/v1/circles/${world.circleId}/audit/records`, (rows) =>
    rows.map((row) => (row.seq === 6 ? auditRow(6, row.body.replace('"generation":0', '"generation":1')) : row)),
  );
  await refused(world.alice().audit.evaluations(world.circleId), "changed_record");
});
