// zod helpers for the edge: every route and socket handler parses its input with these.
import { z } from 'zod';
import { validation } from './errors.ts';

/**
 * An id: any 8-4-4-4-12 hex string, as a PostgreSQL uuid column takes it (not only RFC 4122
 * v1–v8, so `00000000-0000-0000-0000-000000000001` is a well-formed unknown id → 404, not 400).
 * Lowercased, the form the database answers with, so `me === id` comparisons and ids echoed
 * back to clients match what they hold.
 */
export const uuid = z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase());

export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const msg = r.error.issues
      .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
      .slice(0, 5)
      .join('; ');
    throw validation(msg || 'Invalid input', r.error.issues);
  }
  return r.data;
}

/**
 * A user id: the host's own string (a uuid, "42", …), 1–64 characters (DESIGN.md, "Module
 * boundary"). Longer, empty, not a string or holding a NUL (PostgreSQL cannot store one) → 400.
 */
export const userId = z
  .string({ message: 'must be a user id (a string)' })
  .min(1, 'must not be empty')
  .max(64, 'at most 64 characters')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

/** A path parameter that is a user id (see `userId`). */
export const userIdParam = <K extends string>(name: K) => z.object({ [name]: userId } as Record<K, typeof userId>);

/** A path parameter that must be a UUID: malformed → 400 VALIDATION (DESIGN.md, Rules). */
export const idParam = <K extends string>(name: K) => z.object({ [name]: uuid } as Record<K, typeof uuid>);

/** Paging limit: default 50, at most 100. */
export const limitQuery = z.coerce.number().int().min(1).max(100).default(50);
