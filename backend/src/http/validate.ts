// zod helpers for the edge: every route and socket handler parses its input with these.
import { z } from 'zod';
import { validation } from './errors.ts';

export const uuid = z.string().uuid({ message: 'must be a UUID' });

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

/** A path parameter that must be a UUID: malformed → 400 VALIDATION (DESIGN.md, Rules). */
export const idParam = <K extends string>(name: K) => z.object({ [name]: uuid } as Record<K, typeof uuid>);

/** Paging limit: default 50, at most 100. */
export const limitQuery = z.coerce.number().int().min(1).max(100).default(50);
