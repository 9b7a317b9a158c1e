// A text cut into plain and matched parts, for rendering search results as text (never as HTML).
import type { Highlight } from '../api/search';

export interface TextPart {
  text: string;
  hit: boolean;
}

/** `text` split at the highlights (sorted, clamped to the text, overlaps merged). */
export function highlightParts(text: string, highlights: readonly Highlight[]): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const [s, e] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const start = Math.max(at, Math.min(s, text.length));
    const end = Math.min(Math.max(e, start), text.length);
    if (end <= start) continue;
    if (start > at) parts.push({ text: text.slice(at, start), hit: false });
    parts.push({ text: text.slice(start, end), hit: true });
    at = end;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), hit: false });
  return parts;
}

/**
 * The part of a long text around its first match: at most `context` characters before it (cut
 * at a character boundary, "…" in front), with the highlights moved to match.
 */
export function snippet(text: string, highlights: readonly Highlight[], context = 24): { text: string; highlights: Highlight[] } {
  const first = highlights.reduce((min, [s]) => Math.min(min, s), Infinity);
  if (!Number.isFinite(first) || first <= context) return { text, highlights: [...highlights] };
  let cut = first - context;
  // Never between the two halves of an emoji (a surrogate pair).
  if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut--;
  const shift = cut - 1; // one code unit for the "…"
  return { text: `…${text.slice(cut)}`, highlights: highlights.map(([s, e]): Highlight => [s - shift, e - shift]) };
}
