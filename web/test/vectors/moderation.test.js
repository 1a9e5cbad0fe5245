// docs/vectors/moderation-v1.json: moderation and the audit log (§28-§33).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertBytes, assertThrowsNamed, bytes, loadVectors, withRandomness } from "../../test-support/helpers.js";
import { sodium } from "../../src/protocol/sodium.js";
import {
  TreeHead,
  leafHash,
  merkleRoot,
  rootOfLeafHashes,
  successionMessage,
  verifyConsistency,
  verifyInclusion,
  verifySuccession,
} from "../../src/protocol/audit.js";
import { b64, b64url, concat, fromB64, fromUtf8, hex, uuidHex } from "../../src/protocol/encoding.js";
import { Envelope, EnvelopeContext, ENTRY, commitment, verifyCommitment } from "../../src/protocol/entries.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import { canonicalJson, parseJson } from "../../src/protocol/json.js";
import * as labels from "../../src/protocol/labels.js";
import { eventHash } from "../../src/protocol/membership.js";
import {
  ModerationKey,
  ModerationKeyRecord,
  checkModerationSuccessor,
  generationContext,
  moderationWrapPlaintext,
  openModerationWrap,
  openPreviousModerationKey,
  previousModerationKeyAssociatedData,
  sealModerationWrap,
  sealPreviousModerationKey,
  sharedKey,
} from "../../src/protocol/moderation.js";
import { KeyRecord } from "../../src/protocol/records.js";
import { ACTIONS, Decision, MAX_REASON, blobHash, noteAssociatedData, openDecisionNote, sealDecisionNote } from "../../src/protocol/decisions.js";
import { MAX_NOTE, REASONS, Report, caseHash, openReport, reportAssociatedData, sealReport, verifyReport } from "../../src/protocol/reports.js";
import {
  MAX_CONTACT,
  MAX_NAME,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE,
  MAX_SEALED,
  Receipt,
  TakedownLink,
  TakedownRequest,
  openResponse,
  openTakedown,
  receiptTokenHash,
  responseAssociatedData,
  sealResponse,
  sealTakedown,
  takedownAssociatedData,
} from "../../src/protocol/takedowns.js";

import { MAX_WORK, MEMLIMIT, OPSLIMIT, SOLUTIONS, meets, proofHash, proofSeed, solveProof, verifyProof } from "../../src/protocol/proofs.js";

const V = loadVectors("moderation-v1.json");
const CIRCLES = loadVectors("circles-v1.json");
const ENTRIES = loadVectors("entries-v1.json");
const CIRCLE = V.circle.circle_id;
const identities = Object.fromEntries(
  Object.entries(CIRCLES.identities).map(([name, i]) => [
    name,
    new IdentityKeys(bytes(i.x25519_secret), bytes(i.ed25519_seed)),
  ]),
);
const keys = V.moderation_keys.map((k) => new ModerationKey(bytes(k.secret)));
const modRecords = V.moderation_keys.map((k) => ModerationKeyRecord.parse(k.text));
const keyRecords = Object.fromEntries(V.circle.key_records.map((r) => [r.seq, KeyRecord.parse(r.text)]));

describe("moderation-v1.json labels and constants", () => {
  for (const [name, expected] of Object.entries(V.labels)) {
    test(name, () => {
      const actual = labels[name];
      if (actual instanceof Uint8Array) {
        assertBytes(actual, expected);
      } else {
        assert.equal(actual, expected);
      }
    });
  }
  test("constants", () => {
    const C = V.constants;
    assert.equal(C.nonce_bytes, 24);
    assert.deepEqual([...REASONS], C.reasons);
    assert.deepEqual([...ACTIONS], C.actions);
    assert.deepEqual(
      [MAX_NOTE, MAX_NAME, MAX_CONTACT, MAX_SEALED, MAX_REQUEST_BYTES, MAX_RESPONSE, MAX_REASON],
      [C.max_note, C.max_name, C.max_contact, C.max_sealed, C.max_request_bytes, C.max_response, C.max_reason],
    );
  });
});

describe("moderation-v1.json circle", () => {
  for (const r of V.circle.key_records) {
    test(`key record ${r.seq} is that of circles-v1.json`, () => {
      assert.equal(r.text, CIRCLES.records[r.seq].text);
      assertBytes(keyRecords[r.seq].hash(), r.hash);
    });
  }
});

describe("moderation-v1.json moderation_keys", () => {
  V.moderation_keys.forEach((k, g) => {
    test(`generation ${g}: keys, record, hash and signature`, () => {
      const key = keys[g];
      assertBytes(key.publicKey, k.public_key);
      assert.equal(b64(key.publicKey), k.public_key_b64);
      assertBytes(key.boxKey, k.box_key);
      const record = modRecords[g];
      assert.deepEqual(record.toJson(), k.json);
      assert.equal(record.text, k.text);
      assertBytes(record.bytes, k.bytes);
      assertBytes(record.hash(), k.hash);
      assert.equal(b64(record.hash()), k.hash_b64);
      assertBytes(record.signatureMessage(), k.signature_message);
      assertBytes(record.sign(identities[k.json.signer]), k.signature);
      assert.equal(b64(bytes(k.signature)), k.signature_b64);
      record.verifySignature(bytes(k.signature), identities[k.json.signer].publicIdentity());
    });
    test(`generation ${g}: built for its key record`, () => {
      const built = ModerationKeyRecord.forKeyRecord(keyRecords[k.json.record_seq], {
        key: keys[g],
        generation: g,
        prev: g === 0 ? null : modRecords[g - 1].hash(),
        signer: k.json.signer,
      });
      assert.equal(built.text, k.text);
    });
  });
  test("the generations chain", () => {
    checkModerationSuccessor(null, modRecords[0]);
    checkModerationSuccessor(modRecords[0], modRecords[1]);
  });
});

describe("moderation-v1.json record_parse", () => {
  for (const c of V.record_parse) {
    test(c.case, () => {
      if (c.error) {
        assertThrowsNamed(() => ModerationKeyRecord.parse(c.text), c.error);
      } else {
        assert.equal(ModerationKeyRecord.parse(c.text).text, c.canonical ?? c.text);
      }
    });
  }
});

describe("moderation-v1.json successor", () => {
  for (const c of V.successor) {
    test(c.case, () => {
      const previous = c.previous === null ? null : ModerationKeyRecord.parse(c.previous);
      const record = ModerationKeyRecord.parse(c.record);
      if (c.valid) {
        checkModerationSuccessor(previous, record);
      } else {
        assertThrowsNamed(() => checkModerationSuccessor(previous, record), c.error);
      }
    });
  }
});

describe("moderation-v1.json matches", () => {
  for (const c of V.matches) {
    test(`generation ${c.generation} against key record ${c.key_record_seq}`, () => {
      assert.equal(modRecords[c.generation].matches(keyRecords[c.key_record_seq]), c.matches);
    });
  }
});

describe("moderation-v1.json wraps", () => {
  for (const w of V.wraps) {
    const identity = identities[w.recipient];
    const context = { circleId: CIRCLE, generation: w.generation };
    test(`generation ${w.generation} for ${w.recipient}: plaintext and box`, () => {
      assertBytes(identity.x25519Public, w.recipient_x25519_public);
      assertBytes(moderationWrapPlaintext(keys[w.generation], context), w.plaintext);
      assertBytes(sodium.crypto_scalarmult_base(bytes(w.ephemeral_secret)), w.ephemeral_public);
      const nonce = sodium.crypto_generichash(24, concat(bytes(w.ephemeral_public), identity.x25519Public));
      const box = sodium.crypto_box_easy(bytes(w.plaintext), nonce, identity.x25519Public, bytes(w.ephemeral_secret));
      assertBytes(concat(bytes(w.ephemeral_public), box), w.sealed);
      assert.equal(b64(bytes(w.sealed)), w.sealed_b64);
    });
    test(`generation ${w.generation} for ${w.recipient}: opens against the record's public key`, () => {
      const opened = openModerationWrap(fromB64(w.sealed_b64), {
        ...context,
        publicKey: modRecords[w.generation].publicKey,
        identity,
      });
      assertBytes(opened.toBytes(), V.moderation_keys[w.generation].secret);
      const fresh = sealModerationWrap(keys[w.generation], { ...context, recipient: identity.x25519Public });
      assertBytes(
        openModerationWrap(fresh, { ...context, publicKey: keys[w.generation].publicKey, identity }).toBytes(),
        V.moderation_keys[w.generation].secret,
      );
    });
  }
});

describe("moderation-v1.json wrap_open", () => {
  for (const c of V.wrap_open) {
    test(c.case, () => {
      const open = () =>
        openModerationWrap(bytes(c.sealed), {
          circleId: CIRCLE,
          generation: 1,
          publicKey: modRecords[1].publicKey,
          identity: identities.bob,
        });
      if (c.valid) {
        assertBytes(open().toBytes(), V.moderation_keys[1].secret);
      } else {
        assertThrowsNamed(open, c.error);
      }
    });
  }
});

describe("moderation-v1.json previous_box", () => {
  const P = V.previous_box;
  const context = { circleId: CIRCLE, generation: P.generation };
  test("box key, associated data and box with the vector's nonce", () => {
    assertBytes(keys[1].toBytes(), P.new_secret);
    assertBytes(keys[1].boxKey, P.box_key);
    assertBytes(keys[0].publicKey, P.previous_public);
    assertBytes(previousModerationKeyAssociatedData(context), P.associated_data);
    assertBytes(generationContext(CIRCLE, P.generation), P.associated_data.slice(-48));
    const box = withRandomness([P.nonce], () => sealPreviousModerationKey(keys[1], keys[0], context));
    assertBytes(box, P.box);
    assert.equal(b64(box), P.box_b64);
  });
  test("opens to generation 0's secret; refusals", () => {
    const options = { ...context, newKey: keys[1], publicKey: bytes(P.previous_public) };
    assertBytes(openPreviousModerationKey(fromB64(P.box_b64), options).toBytes(), P.previous_secret);
    assertThrowsNamed(
      () => openPreviousModerationKey(bytes(P.box), { ...options, publicKey: keys[1].publicKey }),
      "UntrustedSigner",
    );
    assertThrowsNamed(() => openPreviousModerationKey(bytes(P.box), { ...options, generation: 2 }), "DecryptionFailed");
    assertThrowsNamed(() => openPreviousModerationKey(bytes(P.box).subarray(0, 39), options), "DecryptionFailed");
  });
});

describe("moderation-v1.json key_requests", () => {
  for (const r of V.key_requests) {
    test(`generation ${r.generation}: a valid body`, () => {
      const record = ModerationKeyRecord.parse(r.record);
      assert.equal(record.generation, r.generation);
      record.verifySignature(fromB64(r.signature, 64), identities[record.signer].publicIdentity());
      checkModerationSuccessor(r.generation === 0 ? null : modRecords[r.generation - 1], record);
      assert.deepEqual(
        r.wraps.map((w) => w.username),
        record.admins.map((a) => a.user),
      );
      for (const w of r.wraps) {
        const opened = openModerationWrap(fromB64(w.wrap), {
          circleId: CIRCLE,
          generation: r.generation,
          publicKey: record.publicKey,
          identity: identities[w.username],
        });
        assertBytes(opened.publicKey, hex(record.publicKey));
      }
      if (r.generation === 0) {
        assert.equal(r.prev_key_box, null);
      } else {
        const previous = openPreviousModerationKey(fromB64(r.prev_key_box, 72), {
          newKey: keys[r.generation],
          circleId: CIRCLE,
          generation: r.generation,
          publicKey: modRecords[r.generation - 1].publicKey,
        });
        assertBytes(previous.toBytes(), V.moderation_keys[r.generation - 1].secret);
      }
    });
  }
});

describe("moderation-v1.json report", () => {
  const R = V.report;
  const entry = ENTRIES.entries[0];
  const report = new Report({
    circleId: R.circle_id,
    caseId: R.case_id,
    entryId: R.entry_id,
    reporter: R.reporter,
    reason: R.json.reason,
    note: R.json.note,
    body: bytes(R.reveal.body_bytes),
    opening: bytes(R.reveal.opening),
  });
  const context = { circleId: R.circle_id, caseId: R.case_id, entryId: R.entry_id, generation: R.generation };

  test("the reveal opens the named warning's commitment, signed by its author key", () => {
    assert.equal(R.reveal.body_bytes, entry.body_bytes);
    assertBytes(commitment(bytes(R.reveal.body_bytes), bytes(R.reveal.opening)), R.reveal.commitment);
    assert.ok(verifyCommitment(bytes(R.reveal.body_bytes), bytes(R.reveal.opening), bytes(entry.commitment)));
    const envelopeContext = new EnvelopeContext({
      kind: ENTRY,
      circleId: entry.circle_id,
      epoch: entry.epoch,
      entryId: entry.entry_id,
    });
    Envelope.fromJson(entry.envelope).verify(envelopeContext);
  });

  test("report bytes and signature", () => {
    assert.deepEqual(report.toJson(), R.json);
    assert.equal(fromUtf8(report.bytes), R.text);
    assertBytes(report.bytes, R.bytes);
    assertBytes(report.signatureMessage(), R.signature_message);
    assertBytes(identities.bob.sign(report.signatureMessage()), R.signature);
    assertBytes(concat(bytes(R.signature), report.bytes), R.plaintext);
  });

  test("sealing with the vector's ephemeral key and nonce", () => {
    assertBytes(keys[R.generation].publicKey, R.moderation_public);
    assertBytes(sodium.crypto_scalarmult_base(bytes(R.ephemeral_secret)), R.ephemeral_public);
    assertBytes(sharedKey(bytes(R.ephemeral_secret), bytes(R.moderation_public)), R.shared_key);
    assertBytes(keys[R.generation].shared(bytes(R.ephemeral_public)), R.shared_key);
    const ad = reportAssociatedData(context, bytes(R.ephemeral_public), bytes(R.moderation_public));
    assertBytes(ad, R.associated_data);
    assert.equal(ad.length, R.associated_data_length);
    const sealed = withRandomness([R.ephemeral_secret, R.nonce], () =>
      sealReport(report, { identity: identities.bob, publicKey: bytes(R.moderation_public), generation: R.generation }),
    );
    assertBytes(sealed, R.sealed);
    assertBytes(caseHash(sealed), R.case_hash);
  });

  test("the request body", () => {
    assert.deepEqual(R.request, {
      case_id: R.case_id,
      entry_id: R.entry_id,
      generation: R.generation,
      ciphertext: b64(bytes(R.sealed)),
    });
  });

  test("a fresh report opens and verifies", () => {
    const sealed = sealReport(report, { identity: identities.bob, publicKey: keys[1].publicKey, generation: 1 });
    const opened = openReport(sealed, { key: keys[1], ...context });
    verifyReport(opened.report, opened.signature, identities.bob.publicIdentity());
    assert.deepEqual(opened.report.toJson(), R.json);
  });
});

describe("moderation-v1.json report_open", () => {
  for (const c of V.report_open) {
    test(c.case, () => {
      const read = () => {
        const opened = openReport(bytes(c.sealed), {
          key: keys[c.moderation_generation],
          circleId: c.circle_id,
          caseId: c.case_id,
          entryId: c.entry_id,
          generation: c.generation,
        });
        verifyReport(opened.report, opened.signature, identities[c.verify_with].publicIdentity());
        return opened;
      };
      if (c.valid) {
        assert.deepEqual(read().report.toJson(), V.report.json);
      } else {
        assertThrowsNamed(read, c.error);
      }
    });
  }
});

describe("moderation-v1.json takedown.link", () => {
  const L = V.takedown.link;
  test("the link string", () => {
    assertBytes(keys[L.generation].publicKey, L.public_key);
    assert.equal(b64url(bytes(L.public_key)), L.public_key_b64url);
    const link = new TakedownLink({
      baseUrl: V.takedown.base_url,
      circleId: L.circle_id,
      generation: L.generation,
      publicKey: bytes(L.public_key),
    });
    assert.equal(link.fragment(), L.fragment);
    assert.equal(String(link), L.text);
  });
  for (const c of L.parse) {
    test(`parse: ${c.case}`, () => {
      if (c.error) {
        assertThrowsNamed(() => TakedownLink.parse(c.input), c.error);
      } else {
        const link = TakedownLink.parse(c.input);
        assert.equal(link.baseUrl, c.base_url);
        assert.equal(String(link), c.canonical);
        assert.equal(link.circleId, L.circle_id);
        assert.equal(link.generation, L.generation);
        assertBytes(link.publicKey, L.public_key);
      }
    });
  }
});

describe("moderation-v1.json takedown.receipt", () => {
  const R = V.takedown.receipt;
  const link = TakedownLink.parse(V.takedown.link.text);
  const receipt = withRandomness([bytes(uuidHex(R.case_id)), R.secret], () => Receipt.create(link));

  test("the receipt string, token, token hash and key pair", () => {
    assert.equal(b64url(bytes(R.secret)), R.secret_b64url);
    assert.equal(receipt.caseId, R.case_id);
    assertBytes(receipt.token, R.token);
    assertBytes(concat(new TextEncoder().encode("bcreceipt1"), Uint8Array.of(0), receipt.token), R.token_hash_input);
    assertBytes(receiptTokenHash(receipt.token), R.token_hash);
    assertBytes(receipt.tokenHash, R.token_hash);
    assertBytes(receipt.receiptSecretKey, R.receipt_secret_key);
    assertBytes(receipt.receiptKey, R.receipt_public_key);
    assert.equal(String(receipt), R.text);
  });
  for (const c of R.parse) {
    test(`parse: ${c.case}`, () => {
      if (c.error) {
        assertThrowsNamed(() => Receipt.parse(c.input), c.error);
      } else {
        const parsed = Receipt.parse(c.input);
        assert.equal(String(parsed), c.canonical);
        assertBytes(parsed.token, R.token);
      }
    });
  }
});

describe("moderation-v1.json takedown.request", () => {
  const T = V.takedown.request;
  const receipt = Receipt.parse(V.takedown.receipt.text);
  const request = new TakedownRequest({ circleId: receipt.circleId, caseId: receipt.caseId, ...T.fields });

  test("request bytes, k, associated data and box with the vector's nonce", () => {
    assert.deepEqual(request.toJson(), T.json);
    assert.equal(fromUtf8(request.bytes), T.text);
    assertBytes(request.bytes, T.bytes);
    assertBytes(receipt.sharedKey(), T.shared_key);
    assertBytes(keys[receipt.generation].shared(receipt.receiptKey), T.shared_key);
    assertBytes(takedownAssociatedData(receipt), T.associated_data);
    const sealed = withRandomness([T.nonce], () => sealTakedown(request, receipt));
    assertBytes(sealed, T.sealed);
    assertBytes(caseHash(sealed), T.case_hash);
  });

  test("the request body of POST /v1/takedown", () => {
    assert.deepEqual(T.http, {
      circle_id: receipt.circleId,
      case_id: receipt.caseId,
      generation: receipt.generation,
      moderation_key: b64(receipt.moderationPublic),
      receipt_key: b64(receipt.receiptKey),
      receipt_token: b64(receipt.token),
      ciphertext: b64(bytes(T.sealed)),
      proof: { challenge: b64(bytes(V.takedown.proof.challenge)), nonces: V.takedown.proof.nonces },
    });
    assert.deepEqual(V.takedown.status_request, { case_id: receipt.caseId, receipt_token: b64(receipt.token) });
  });

  for (const c of T.open) {
    test(`open: ${c.case}`, () => {
      const open = () =>
        openTakedown(bytes(c.sealed), {
          key: keys[c.moderation_generation],
          receiptKey: bytes(c.receipt_public),
          circleId: c.circle_id,
          caseId: c.case_id,
          generation: c.generation,
        });
      if (c.valid) {
        assert.deepEqual(open().toJson(), T.json);
      } else {
        assertThrowsNamed(open, c.error);
      }
    });
  }
});

describe("moderation-v1.json takedown.proof", () => {
  const P = V.takedown.proof;
  const seed = bytes(P.seed);

  test("the parameters, the seed and every evaluation", async () => {
    assert.deepEqual([P.solutions, P.opslimit, P.memlimit, P.max_work], [SOLUTIONS, OPSLIMIT, MEMLIMIT, MAX_WORK]);
    assertBytes(labels.PROOF_ARGON2_SALT, P.salt);
    assert.equal(P.case_hash, V.takedown.request.case_hash);
    assertBytes(concat(bytes(P.challenge), bytes(P.case_id.replaceAll("-", "")), bytes(P.case_hash)), P.seed_input);
    assertBytes(proofSeed(bytes(P.challenge), P.case_id, bytes(P.case_hash)), P.seed);
    assert.equal(BigInt(P.threshold), (1n << 64n) / BigInt(P.work));
    for (const e of P.hashes) {
      const digest = proofHash(seed, e.nonce);
      assertBytes(digest, e.hash);
      assert.equal(meets(digest, P.work), P.nonces.includes(e.nonce), `nonce ${e.nonce}`);
    }
    assert.deepEqual(await solveProof(seed, P.work), P.nonces);
  });

  for (const c of P.verify) {
    test(`verify: ${c.case}`, () => {
      const verify = () => verifyProof(seed, c.work, c.nonces);
      if (c.valid) {
        verify();
      } else {
        assertThrowsNamed(verify, c.error);
      }
    });
  }
});

describe("moderation-v1.json takedown.response", () => {
  const S = V.takedown.response;
  const receipt = Receipt.parse(V.takedown.receipt.text);
  const context = {
    key: keys[receipt.generation],
    receiptKey: receipt.receiptKey,
    circleId: receipt.circleId,
    caseId: receipt.caseId,
    generation: receipt.generation,
  };

  test("plaintext, associated data, box and response hash", () => {
    assertBytes(new TextEncoder().encode(S.text), S.plaintext);
    assertBytes(responseAssociatedData(receipt), S.associated_data);
    const sealed = withRandomness([S.nonce], () => sealResponse(S.text, context));
    assertBytes(sealed, S.sealed);
    assertBytes(blobHash(sealed), S.response_hash);
  });
  for (const c of S.open) {
    test(`open: ${c.case}`, () => {
      const open = () => openResponse(bytes(c.sealed), Receipt.parse(c.receipt));
      if (c.error) {
        assertThrowsNamed(open, c.error);
      } else {
        assert.equal(open(), c.text);
      }
    });
  }
});

describe("moderation-v1.json decisions", () => {
  const cases = {
    [V.report.case_id]: { sealed: V.report.sealed },
    [V.takedown.receipt.case_id]: { sealed: V.takedown.request.sealed, response: V.takedown.response.sealed },
  };
  const previousOfCase = new Map();
  for (const d of V.decisions) {
    const N = d.note;
    const noteContext = { circleId: CIRCLE, caseId: d.case_id, generation: N.generation };
    const previous = previousOfCase.get(d.case_id) ?? null;
    previousOfCase.set(d.case_id, d);

    test(`${d.action} by ${d.signer}: the note`, () => {
      const publicKey = keys[N.generation].publicKey;
      assertBytes(sodium.crypto_scalarmult_base(bytes(N.ephemeral_secret)), N.ephemeral_public);
      assertBytes(sharedKey(bytes(N.ephemeral_secret), publicKey), N.shared_key);
      assertBytes(noteAssociatedData(noteContext, bytes(N.ephemeral_public), publicKey), N.associated_data);
      const sealed = withRandomness([N.ephemeral_secret, N.nonce], () =>
        sealDecisionNote(N.reason, { ...noteContext, publicKey }),
      );
      assertBytes(sealed, N.sealed);
      assertBytes(blobHash(sealed), N.note_hash);
      assert.equal(openDecisionNote(sealed, { ...noteContext, key: keys[N.generation] }), N.reason);
    });

    test(`${d.action} by ${d.signer}: decision bytes, hash, signature and chain`, () => {
      const decision = Decision.parse(d.text);
      assert.deepEqual(decision.toJson(), d.json);
      assertBytes(decision.bytes, d.bytes);
      assertBytes(decision.hash(), d.hash);
      assert.equal(b64(decision.hash()), d.hash_b64);
      assertBytes(decision.signatureMessage(), d.signature_message);
      assertBytes(decision.sign(identities[d.signer]), d.signature);
      decision.verifySignature(fromB64(d.signature_b64, 64), identities[d.signer].publicIdentity());
      assert.equal(decision.seq, d.seq);
      assertBytes(decision.caseHash, hex(caseHash(bytes(cases[d.case_id].sealed))));
      assertBytes(decision.noteHash, N.note_hash);
      assert.equal(decision.prev === null ? null : b64(decision.prev), previous === null ? null : previous.hash_b64);
      if (d.json.response_hash !== null) {
        assertBytes(decision.responseHash, hex(blobHash(bytes(cases[d.case_id].response))));
      }
      const built = new Decision({
        circleId: CIRCLE,
        caseId: d.case_id,
        seq: d.seq,
        action: d.action,
        entryId: d.json.entry,
        caseHash: caseHash(bytes(cases[d.case_id].sealed)),
        generation: N.generation,
        noteHash: blobHash(bytes(N.sealed)),
        responseHash: d.json.response_hash === null ? null : blobHash(bytes(cases[d.case_id].response)),
        prev: previous === null ? null : bytes(previous.hash),
        signer: d.signer,
      });
      assert.equal(built.text, d.text);
    });

    test(`${d.action} by ${d.signer}: the request body`, () => {
      assert.deepEqual(d.request, {
        decision: d.text,
        signature: d.signature_b64,
        note: b64(bytes(N.sealed)),
        response: d.json.response_hash === null ? null : b64(bytes(cases[d.case_id].response)),
      });
    });
  }
});

describe("moderation-v1.json decision_parse", () => {
  for (const c of V.decision_parse) {
    test(c.case, () => {
      if (c.error) {
        assertThrowsNamed(() => Decision.parse(c.text), c.error);
      } else {
        assert.equal(Decision.parse(c.text).text, c.canonical ?? c.text);
      }
    });
  }
});

describe("moderation-v1.json audit", () => {
  const A = V.audit;
  const leaves = A.records.map((r) => new TextEncoder().encode(r.body));

  A.records.forEach((r, i) => {
    test(`record ${r.seq} (${r.kind}): event hash, leaf hash, chain and answer`, () => {
      const body = parseJson(r.body);
      assert.equal(body.seq, r.seq);
      assert.equal(body.kind, r.kind);
      assertBytes(canonicalJson(body), hex(leaves[i]));
      assertBytes(eventHash(r.body), r.event_hash);
      assertBytes(leafHash(leaves[i]), r.leaf_hash);
      assert.equal(body.prev, i === 0 ? null : A.records[i - 1].http.hash);
      assert.deepEqual(r.http, {
        seq: r.seq,
        body: r.body,
        hash: b64(bytes(r.event_hash)),
        leaf_hash: b64(bytes(r.leaf_hash)),
      });
    });
  });

  test("the records carry the signed moderation values", () => {
    const [, rotated, filed, takedown, decided] = A.records.map((r) => parseJson(r.body).details);
    assert.equal(rotated.record_hash, V.moderation_keys[0].hash_b64);
    modRecords[rotated.generation].verifySignature(fromB64(rotated.signature, 64), identities.alice.publicIdentity());
    assert.equal(filed.case_hash, b64(bytes(V.report.case_hash)));
    assert.equal(takedown.case_hash, b64(bytes(V.takedown.request.case_hash)));
    const decision = Decision.parse(decided.decision);
    decision.verifySignature(fromB64(decided.signature, 64), identities[decision.signer].publicIdentity());
    assert.equal(decision.action, decided.action);
    assert.equal(uuidHex(decision.caseId), decided.case_id);
  });

  for (const r of A.roots) {
    test(`MTH of the first ${r.size} records`, () => {
      assertBytes(merkleRoot(leaves.slice(0, r.size)), r.root);
      assertBytes(rootOfLeafHashes(leaves.slice(0, r.size).map(leafHash)), r.root);
    });
  }

  test("server keys", () => {
    for (const k of A.server_keys) {
      assertBytes(sodium.crypto_sign_seed_keypair(bytes(k.seed)).publicKey, k.public_key);
    }
  });

  for (const h of A.heads) {
    test(`head of size ${h.size}: bytes, signature and answer`, () => {
      const head = TreeHead.parse(h.text);
      assert.deepEqual(head.toJson(), h.json);
      assertBytes(head.bytes, h.bytes);
      assertBytes(head.root, h.root);
      assert.equal(head.size, h.size);
      assertBytes(merkleRoot(leaves.slice(0, h.size)), h.root);
      assert.ok(head.isFor(CIRCLE));
      assertBytes(head.signatureMessage(), h.signature_message);
      const key = A.server_keys.find((k) => k.key_id === h.http.key_id);
      assertBytes(
        sodium.crypto_sign_detached(
          head.signatureMessage(),
          sodium.crypto_sign_seed_keypair(bytes(key.seed)).privateKey,
        ),
        h.signature,
      );
      head.verifySignature(fromB64(h.http.signature, 64), fromB64(h.http.public_key, 32));
      assert.equal(h.http.tree_head, h.text);
      assert.equal(h.http.public_key, b64(bytes(key.public_key)));
    });
  }

  for (const c of A.head_parse) {
    test(`head parse: ${c.case}`, () => assertThrowsNamed(() => TreeHead.parse(c.text), c.error));
  }

  for (const c of A.head_signatures) {
    test(`head signature: ${c.case}`, () => {
      const check = () => TreeHead.parse(c.text).verifySignature(bytes(c.signature), bytes(c.public_key));
      if (c.valid) {
        check();
      } else {
        assertThrowsNamed(check, c.error);
      }
    });
  }

  test("the consistency proof from size 3 to 5", () => {
    const C = A.consistency;
    const [old, current] = [A.roots[C.first], A.roots[C.second]];
    const proof = C.proof.map(bytes);
    assert.deepEqual(C.http, { first: C.first, second: C.second, proof: proof.map(b64) });
    verifyConsistency(C.first, C.second, bytes(old.root), bytes(current.root), proof);
    assertThrowsNamed(
      () => verifyConsistency(C.first, C.second, bytes(current.root), bytes(current.root), proof),
      "ProofError",
    );
    assertThrowsNamed(
      () => verifyConsistency(C.first, C.second, bytes(old.root), bytes(current.root), proof.slice(1)),
      "ProofError",
    );
    assertThrowsNamed(
      () => verifyConsistency(C.second, C.first, bytes(current.root), bytes(old.root), proof),
      "ProofError",
    );
    verifyConsistency(0, C.second, bytes(A.roots[0].root), bytes(current.root), []);
    verifyConsistency(C.second, C.second, bytes(current.root), bytes(current.root), []);
  });

  test("the inclusion proof of leaf 4 in size 5", () => {
    const I = A.inclusion;
    assert.equal(I.leaf_hash, A.records[I.index].leaf_hash);
    const root = bytes(A.roots[I.size].root);
    verifyInclusion(bytes(I.leaf_hash), I.index, I.size, I.proof.map(bytes), root);
    assertThrowsNamed(
      () => verifyInclusion(bytes(A.records[0].leaf_hash), I.index, I.size, I.proof.map(bytes), root),
      "ProofError",
    );
    assertThrowsNamed(
      () => verifyInclusion(bytes(I.leaf_hash), I.index, I.size + 1, I.proof.map(bytes), root),
      "ProofError",
    );
    assertThrowsNamed(
      () => verifyInclusion(bytes(I.leaf_hash), I.size, I.size, I.proof.map(bytes), root),
      "ProofError",
    );
  });

  test("the succession of key 2 by key 1 and the keys answer", () => {
    const S = A.succession;
    const message = successionMessage(bytes(S.old_public), bytes(S.new_public), S.not_before);
    assertBytes(message, S.message);
    const [first, second] = A.server_keys;
    assertBytes(
      sodium.crypto_sign_detached(message, sodium.crypto_sign_seed_keypair(bytes(first.seed)).privateKey),
      S.signature,
    );
    verifySuccession(bytes(S.old_public), bytes(S.new_public), S.not_before, bytes(S.signature));
    assert.deepEqual(S.http, {
      keys: [
        {
          key_id: first.key_id,
          public_key: b64(bytes(first.public_key)),
          not_before: first.not_before,
          succession_signature: null,
        },
        {
          key_id: second.key_id,
          public_key: b64(bytes(second.public_key)),
          not_before: second.not_before,
          succession_signature: b64(bytes(S.signature)),
        },
      ],
    });
  });

  for (const c of A.succession.cases) {
    test(`succession: ${c.case}`, () => {
      const check = () =>
        verifySuccession(bytes(c.old_public), bytes(c.new_public), c.not_before, bytes(A.succession.signature));
      if (c.valid) {
        check();
      } else {
        assertThrowsNamed(check, c.error);
      }
    });
  }
});
