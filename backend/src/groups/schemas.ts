// Input schemas for the group edge (HTTP routes; the socket's group events are in chat/schemas.ts).
import { z } from 'zod';
import { limitQuery, userId, uuid } from '../http/validate.ts';
import { Cursor, noNul, wellFormed } from '../chat/schemas.ts';

/** 1–50 characters (code points) after trimming, so never only spaces; plain text. */
export const GroupName = z
  .string()
  .trim()
  .min(1, 'must not be empty or only spaces')
  .max(50, 'at most 50 characters')
  .refine(noNul, 'must not contain NUL characters')
  .refine(wellFormed, 'must be well-formed text (no lone surrogates)');

export const Visibility = z.enum(['private', 'public']);

/** An http(s) URL or a path on this site; at most 2048 characters. */
const AvatarUrl = z
  .string()
  .max(2048)
  .refine((s) => /^https?:\/\/[^\s]+$/i.test(s) || /^\/(?!\/)[^\s]*$/.test(s), 'must be an http(s) URL or a path starting with /');

/** At most this many users in one request (a larger GROUP_MAX_MEMBERS is reached in several). */
const MAX_USERS_PER_REQUEST = 1000;

export const GroupParams = z.object({ groupId: uuid });
export const MemberParams = z.object({ groupId: uuid, userId });

export const CreateGroupBody = z.strictObject({
  name: GroupName,
  memberIds: z.array(userId).max(MAX_USERS_PER_REQUEST),
  visibility: Visibility.default('private'),
});

export const UpdateGroupBody = z
  .strictObject({ name: GroupName.optional(), avatarUrl: AvatarUrl.nullable().optional(), visibility: Visibility.optional() })
  .refine((b) => b.name !== undefined || b.avatarUrl !== undefined || b.visibility !== undefined, 'nothing to change');

export const AddMembersBody = z.strictObject({ userIds: z.array(userId).min(1).max(MAX_USERS_PER_REQUEST) });

export const RoleBody = z.strictObject({ role: z.enum(['admin', 'member']) });

export const DiscoverQuery = z.object({ q: z.string().trim().max(50).refine(noNul).default(''), cursor: Cursor.optional(), limit: limitQuery });

/** `kind` and an id of that kind: a user id, or a group's UUID. */
export const MuteParams = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), id: userId }),
  z.object({ kind: z.literal('group'), id: uuid }),
]);

/** `until`: an ISO time in the future, or null / absent (until unmuted). */
export const MuteBody = z.strictObject({
  until: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() > Date.now(), 'must be in the future')
    .refine((d) => d.getUTCFullYear() <= 9999, 'must be before the year 10000')
    .nullable()
    .optional(),
});
