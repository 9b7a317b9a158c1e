// The content filter (issue 14): how long a word list of 10,000 words (half Chinese, half
// English) takes to build, and what checking one text costs — a short message and one of the
// maximum 2,000 characters, masked and in reject mode. CPU only, in this process.
import { createContentFilter, type ContentFilter } from '../backend/src/chat/contentFilter.ts';
import { percentile } from './lib/load.ts';

const WORDS = 10_000;
const RUNS = 2000;
const HANZI = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自可之';

/** A fixed pseudo-random sequence, so every run checks the same texts. */
function generator(seed: number) {
  let s = seed;
  return (n: number) => (s = (s * 1103515245 + 12345) % 2 ** 31) % n;
}

function wordList(next: (n: number) => number): string[] {
  const words: string[] = [];
  for (let i = 0; i < WORDS; i++) {
    let w = '';
    for (let j = 0, len = 2 + next(5); j < len; j++) w += i % 2 ? HANZI[next(HANZI.length)] : String.fromCharCode(97 + next(26));
    words.push(w);
  }
  return words;
}

/** Mixed text: two Chinese characters to one Latin letter, a space now and then. */
function text(next: (n: number) => number, length: number): string {
  let t = '';
  for (let i = 0; i < length; i++) t += i % 9 === 8 ? ' ' : i % 3 ? HANZI[next(HANZI.length)] : String.fromCharCode(65 + next(26) + (next(2) ? 32 : 0));
  return t;
}

function timeIt(runs: number, fn: () => void) {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return { runs, p50Ms: r(percentile(t, 50)), p99Ms: r(percentile(t, 99)), maxMs: r(t.at(-1)!) };
}

export async function benchContentFilter(log: (s: string) => void) {
  const next = generator(1);
  const words = wordList(next);
  const started = performance.now();
  const mask = createContentFilter(words, 'mask');
  const buildMs = Math.round(performance.now() - started);
  const reject = createContentFilter(words, 'reject');
  log(`built ${WORDS} words in ${buildMs} ms`);

  const apply = (filter: ContentFilter, t: string) => () => {
    try {
      filter.apply(t);
    } catch {
      /* refused: the cost is the same */
    }
  };
  const result: Record<string, unknown> = { words: WORDS, buildMs };
  for (const length of [40, 2000]) {
    const t = text(next, length);
    const masked = mask.apply(t);
    const matches = [...masked].filter((c) => c === '*').length;
    result[`mask${length}`] = { ...timeIt(length > 100 ? RUNS / 10 : RUNS, apply(mask, t)), maskedCharacters: matches };
    result[`reject${length}`] = timeIt(length > 100 ? RUNS / 10 : RUNS, apply(reject, t));
    log(`${length} characters: mask ${JSON.stringify(result[`mask${length}`])}, reject ${JSON.stringify(result[`reject${length}`])}`);
  }
  const clean = 'See you at the station at seven, bring the tickets please!';
  result.cleanShort = timeIt(RUNS, apply(mask, clean));
  log(`a clean ${clean.length}-character message: ${JSON.stringify(result.cleanShort)}`);
  return result;
}
