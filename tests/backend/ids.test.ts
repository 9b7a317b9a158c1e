// Message ids: UUIDv7 (RFC 9562), unique, and in creation order within a process even when
// thousands are made in one millisecond (history breaks equal timestamps by id).
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../backend/src/chat/ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('makes version-7, RFC-variant UUIDs carrying the time in their first 48 bits', () => {
    const at = Date.UTC(2026, 10, 22, 8, 0, 0);
    const id = uuidv7(at + 10_000_000);
    expect(id).toMatch(V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at + 10_000_000);
  });

  it('stays unique and sorted across a burst of 10,000 in the same millisecond', () => {
    const now = Date.UTC(2026, 10, 23);
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(V7);
  });

  it('does not repeat random bits between ids (the pooled bytes are not reused)', () => {
    const now = Date.UTC(2026, 10, 24);
    const tails = Array.from({ length: 1000 }, () => uuidv7(now).slice(19));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
