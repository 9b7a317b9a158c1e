// The content filter (DESIGN.md, "Message lifecycle" → Content filter): a word list, matched with
// Aho–Corasick (modern-ahocorasick), masks or rejects what users write (messages, captions, group
// names). It runs once at the edge of the services, before anything is stored, so what is stored
// and pushed is already masked.
//
// Matching is case-insensitive (Unicode case folding: `BAD` = `bad`, `STRASSE` = `straße`) and
// compatibility-normalised (NFKC: full-width `ＢＡＤ` = `bad`, a decomposed `é` = `é`), on whole
// characters (grapheme clusters: a listed `e` does not match half of `é`), any language alike.
import { readFileSync } from 'node:fs';
import TextMatcher from 'modern-ahocorasick/text';
import { AppError } from '../http/errors.ts';

export type ContentFilterMode = 'mask' | 'reject';

export interface ContentFilter {
  /**
   * The text with every match masked (each character of it one `*`; overlapping matches all
   * masked), or, in `reject` mode, CONTENT_REJECTED (422) thrown when anything matches. Text
   * without a match comes back unchanged.
   */
  apply(text: string): string;
}

/**
 * What a host gives `createFriendChat({ contentFilter })`: a word list (`mode` default `mask`), or
 * a filter of its own, whose `apply` returns the text to store or throws (an `AppError`
 * CONTENT_REJECTED, say).
 */
export type ContentFilterOption = { words: readonly string[]; mode?: ContentFilterMode } | ContentFilter;

export const contentRejected = () => new AppError('CONTENT_REJECTED', 'This contains words that are not allowed here; change the text and try again');

/** No word list: every text passes unchanged. */
export const noContentFilter: ContentFilter = { apply: (text) => text };

/** One word or phrase a line; blank lines and lines starting with `#` are left out. */
export function parseWordList(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A word list file (UTF-8), as `parseWordList` reads it. Throws a message naming the file. */
export function readWordList(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`content filter: cannot read the word list ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseWordList(text);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const stars = (s: string) => '*'.repeat([...graphemes.segment(s)].length);

/** Masks the ranges (UTF-16 offsets on grapheme boundaries, in any order, overlapping or not). */
function mask(text: string, ranges: readonly { start: number; end: number }[]): string {
  if (ranges.length === 0) return text;
  let out = '';
  let done = 0; // text before this offset is already in `out`
  for (const { start, end } of [...ranges].sort((a, b) => a.start - b.start)) {
    if (end <= done) continue;
    const from = Math.max(start, done);
    out += text.slice(done, from) + stars(text.slice(from, end));
    done = end;
  }
  return out + text.slice(done);
}

export function createContentFilter(words: readonly string[], mode: ContentFilterMode = 'mask'): ContentFilter {
  if (mode !== 'mask' && mode !== 'reject') throw new TypeError(`content filter: mode must be 'mask' or 'reject' (got ${JSON.stringify(mode)})`);
  const list = [...new Set(words.map((w) => w.trim()).filter((w) => w !== ''))];
  if (list.length === 0) return noContentFilter;
  const matcher = new TextMatcher(list, { caseFold: true, normalization: 'NFKC' });
  if (mode === 'reject') {
    return {
      apply(text) {
        if (matcher.match(text)) throw contentRejected();
        return text;
      },
    };
  }
  return { apply: (text) => mask(text, matcher.search(text)) };
}

/** A host's option as a filter (none: every text passes). */
export function toContentFilter(option: ContentFilterOption | undefined): ContentFilter {
  if (!option) return noContentFilter;
  if ('apply' in option && typeof option.apply === 'function') return option;
  if ('words' in option && Array.isArray(option.words)) return createContentFilter(option.words, option.mode);
  throw new TypeError('friend-chat: contentFilter must be { words: string[], mode? } or { apply(text) }');
}

/** A send's user text, filtered: the content (a caption for an upload or a location) and a location's label. */
export function filterSendText<P extends { content: string; location?: { label?: string } }>(filter: ContentFilter, parts: P): P {
  const content = filter.apply(parts.content);
  const label = parts.location?.label;
  if (label === undefined) return { ...parts, content };
  return { ...parts, content, location: { ...parts.location, label: filter.apply(label) } };
}
