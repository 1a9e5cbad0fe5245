/**
 * Checking a name against the warnings this page holds (§25.3), as app/client/namecheck.py.
 * Nothing about the name leaves the browser: the check syncs the circle's changes and
 * matches here. The answer says what was compared, so the page never words an empty
 * result as more than "none of the warnings this device holds matches these forms".
 */
import { LEVELS, matchLevel, nameForms } from "../protocol/matching.js";
import { ProtocolError } from "./errors.js";
import { isLive } from "./cache.js";

/**
 * Where each exact form, whole word, initial and set of whole words (and the same for sound
 * keys) occurs among a copy's live names, kept up to date as a sync applies changes
 * (`update`), so a check compares the query only with names that can match it, as
 * app/client/namecheck.py's NameIndex: an exact match shares an exact form; a name at least
 * as long as the query holds the query's rarest whole word or its initial; a shorter name's
 * whole words are a subset of the query's (with initials in the query: any shared word).
 * The candidates then go through matchLevel itself, so the answers are those of comparing
 * every name.
 */
export class NameIndex {
  #at = new Map(); // key -> Map(entryId:i -> { held, i })
  #expiries = []; // Date.parse(expiresAt) of every live warning, ascending

  constructor(warnings = []) {
    for (const held of warnings) {
      this.update(null, held);
    }
  }

  /** A sync replaced `old` (null: new) with `held` (null: gone). */
  update(old, held) {
    if (old !== null && isLive(old)) {
      old.forms.forEach((forms, i) => {
        for (const key of indexKeys(forms)) {
          const places = this.#at.get(key);
          places.delete(`${old.data.entryId}:${i}`);
          if (places.size === 0) {
            this.#at.delete(key);
          }
        }
      });
      this.#expiries.splice(firstAbove(this.#expiries, Date.parse(old.data.expiresAt), false), 1);
    }
    if (held !== null && isLive(held)) {
      held.forms.forEach((forms, i) => {
        for (const key of indexKeys(forms)) {
          let places = this.#at.get(key);
          if (places === undefined) {
            places = new Map();
            this.#at.set(key, places);
          }
          places.set(`${held.data.entryId}:${i}`, { held, i });
        }
      });
      const at = Date.parse(held.data.expiresAt);
      this.#expiries.splice(firstAbove(this.#expiries, at, true), 0, at);
    }
  }

  /** Live warnings not expired at `now` (ms since the epoch). */
  liveCount(now) {
    return this.#expiries.length - firstAbove(this.#expiries, now, true);
  }

  /** entry id -> { held, names: [positions of its names that may match] } */
  candidates(query) {
    const found = new Map();
    const add = (places) => {
      for (const { held, i } of places) {
        let item = found.get(held.data.entryId);
        if (item === undefined) {
          item = { held, names: [] };
          found.set(held.data.entryId, item);
        }
        if (!item.names.includes(i)) {
          item.names.push(i);
        }
      }
    };
    for (const key of query.keys) {
      add(this.#places(`e${key}`));
    }
    for (const key of query.soundKeys) {
      add(this.#places(`s${key}`));
    }
    add(this.#partCandidates("", (forms) => forms.words, query.words));
    add(this.#partCandidates("s", (forms) => forms.sounds, query.sounds));
    return found;
  }

  #places(key) {
    return this.#at.get(key)?.values() ?? [];
  }

  #size(key) {
    return this.#at.get(key)?.size ?? 0;
  }

  *#partCandidates(prefix, sequence, asked) {
    const whole = [...new Set(asked.filter((w) => codePoints(w) > 1))].sort();
    if (whole.length === 0) {
      return; // a partial match shares a whole word
    }
    const size = asked.length;
    const holding = (w) => [`${prefix}l:${w}`, `${prefix}i:${[...w][0]}`];
    const cost = (w) => holding(w).reduce((n, key) => n + this.#size(key), 0);
    const rarest = whole.reduce((best, w) => (cost(w) < cost(best) ? w : best));
    for (const key of holding(rarest)) {
      for (const place of this.#places(key)) {
        if (sequence(place.held.forms[place.i]).length >= size) {
          yield place;
        }
      }
    }
    if (size === 1) {
      return; // no whole-word name is shorter
    }
    let keys;
    if (asked.some((w) => codePoints(w) === 1) || whole.length > SUBSET_WORDS) {
      keys = whole.map((w) => `${prefix}l:${w}`);
    } else {
      keys = subsets(whole, Math.min(whole.length, size - 1)).map((set) => `${prefix}g:${set.join(" ")}`);
    }
    for (const key of keys) {
      for (const place of this.#places(key)) {
        if (sequence(place.held.forms[place.i]).length < size) {
          yield place;
        }
      }
    }
  }
}

const SUBSET_WORDS = 8; // query words up to which shorter names are found by their word set

function codePoints(text) {
  return [...text].length;
}

/** The first position whose value is above `value` (or, `orEqual` false, at or above it). */
function firstAbove(sorted, value, orEqual) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (orEqual ? sorted[mid] <= value : sorted[mid] < value) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

/** Every non-empty subset of `words` (sorted) with at most `most` members, each in order. */
function subsets(words, most) {
  const out = [];
  const grow = (start, chosen) => {
    for (let i = start; i < words.length; i += 1) {
      const next = [...chosen, words[i]];
      out.push(next);
      if (next.length < most) {
        grow(i + 1, next);
      }
    }
  };
  grow(0, []);
  return out;
}

function indexKeys(forms) {
  const keys = new Set();
  for (const key of forms.keys) {
    keys.add(`e${key}`);
  }
  for (const key of forms.soundKeys) {
    keys.add(`s${key}`);
  }
  for (const [prefix, sequence] of [["", forms.words], ["s", forms.sounds]]) {
    const whole = [...new Set(sequence.filter((w) => codePoints(w) > 1))].sort();
    for (const w of whole) {
      keys.add(`${prefix}l:${w}`);
    }
    for (const w of sequence) {
      if (codePoints(w) === 1) {
        keys.add(`${prefix}i:${w}`);
      }
    }
    if (whole.length > 0) {
      keys.add(`${prefix}g:${whole.join(" ")}`);
    }
  }
  return keys;
}

/** The copy's index: built by the first check of a copy made from scratch, then carried from copy to copy by each sync (sync.js). */
export function indexOf(copy) {
  copy.index ??= new NameIndex(copy.warnings.values());
  return copy.index;
}

export async function checkName(entries, circleId, name) {
  const query = queryForms(name);
  return checkCopy(await entries.sync(circleId), name, query);
}

function queryForms(name) {
  try {
    return nameForms(name);
  } catch {
    throw new ProtocolError("bad_name", "A name needs letters or digits.");
  }
}

/** Match `name` against a copy already synced (a page of takedown requests checks each name against one sync). */
export function checkCopy(copy, name, query = queryForms(name)) {
  const now = Date.now();
  const index = indexOf(copy);
  // The server wipes expired warnings in periodic passes; until then, hide them here.
  const searched = index.liveCount(now);
  const found = [];
  for (const { held, names: positions } of index.candidates(query).values()) {
    if (Date.parse(held.data.expiresAt) <= now) {
      continue;
    }
    const names = [held.data.subject, ...held.data.aliases];
    let best = null;
    for (const i of [...positions].sort((a, b) => a - b)) {
      const level = matchLevel(query, held.forms[i]);
      if (level !== null && (best === null || LEVELS.indexOf(level) < best.rank)) {
        best = { rank: LEVELS.indexOf(level), level, written: names[i] };
      }
    }
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
