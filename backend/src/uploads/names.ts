// File names as users give them: shown, and offered as the download name, never used as a
// storage key. Cleaned of paths (`../../etc/passwd` → `passwd`), control and bidi-override
// characters (`evil\u202Egpj.exe`), leading dots, and capped in length.

const MAX = 200;

/** Lone surrogates (ill-formed UTF-16, or a cut through a pair) replaced by U+FFFD. */
const wellFormed = (s: string) => s.replace(/\p{Surrogate}/gu, '\ufffd');

/** The uploader's file name, safe to show and to offer as a download name. */
export function cleanName(raw: string | undefined | null, fallback: string): string {
  let name = wellFormed(raw ?? '').normalize('NFC');
  // Only the last path segment, whichever separator the client's system uses.
  name = name.split(/[\\/]/).pop() ?? '';
  name = name
    // Control characters (C0, DEL, C1): they have no place in a name.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    // Bidirectional overrides and isolates, zero-width marks: they make a name read differently.
    .replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .trim()
    .replace(/^\.+/, '')
    .trim();
  if (!name) return fallback;
  if (name.length > MAX) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = wellFormed(name.slice(0, MAX - ext.length)) + ext;
  }
  return name;
}

/** `name` with its extension replaced by `ext` (re-encoded images and voice say what they are). */
export function withExtension(name: string, ext: string): string {
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  return `${base}.${ext}`;
}

/**
 * A Content-Disposition header: `inline` or `attachment`, an ASCII `filename` fallback and the
 * exact name as RFC 5987 `filename*`.
 */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
