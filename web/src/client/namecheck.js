/**
 * Checking a name against the warnings this page holds (§25.3), as app/client/namecheck.py.
 * Nothing about the name leaves the browser: the check syncs the circle's changes and
 * matches here. The answer says what was compared, so the page never words an empty
 * result as more than "none of the warnings this device holds matches these forms".
 */
import { LEVELS, matchLevel, nameForms } from "../protocol/matching.js";
import { ProtocolError } from "./errors.js";
import { isLive } from "./cache.js";

export async function checkName(entries, circleId, name) {
  let query;
  try {
    query = nameForms(name);
  } catch {
    throw new ProtocolError("bad_name", "A name needs letters or digits.");
  }
  const copy = await entries.sync(circleId);
  const now = Date.now();
  const found = [];
  let searched = 0;
  for (const held of copy.warnings.values()) {
    // The server wipes expired warnings in periodic passes; until then, hide them here.
    if (!isLive(held) || Date.parse(held.data.expiresAt) <= now) {
      continue;
    }
    searched += 1;
    const names = [held.data.subject, ...held.data.aliases];
    let best = null;
    names.forEach((written, i) => {
      const level = matchLevel(query, held.forms[i]);
      if (level !== null && (best === null || LEVELS.indexOf(level) < best.rank)) {
        best = { rank: LEVELS.indexOf(level), level, written };
      }
    });
    if (best !== null) {
      found.push({ rank: best.rank, seq: held.data.seq, match: { level: best.level, matchedName: best.written, warning: held.data } });
    }
  }
  found.sort((a, b) => a.rank - b.rank || b.seq - a.seq);
  const matches = found.map((f) => f.match);
  return {
    query: name,
    words: [...query.words],
    sounds: [...query.sounds],
    circleId: copy.circleId,
    searched,
    changeSeq: copy.changeSeq,
    counts: Object.fromEntries(LEVELS.map((level) => [level, matches.filter((m) => m.level === level).length])),
    matches,
  };
}
