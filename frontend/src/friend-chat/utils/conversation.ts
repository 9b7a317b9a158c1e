// One key per conversation, for threads, windows, drafts and typing: the peer's user id for a
// direct chat, GROUP_KEY + the group's id for a group. User ids never contain NUL (the server
// refuses them), so no user id can be mistaken for a group's key, and the keys of direct chats
// stay the bare user ids they always were (windows and drafts saved before groups still load).
export type ConversationKey = string;

const GROUP_KEY = '\u0000group:';

export const groupKey = (groupId: string): ConversationKey => GROUP_KEY + groupId;

/** The group's id for a group key; null for a direct chat. */
export const groupIdOf = (key: ConversationKey): string | null => (key.startsWith(GROUP_KEY) ? key.slice(GROUP_KEY.length) : null);

export const isGroupKey = (key: ConversationKey): boolean => key.startsWith(GROUP_KEY);

/** Which conversation a message belongs to, seen from `me`. */
export function conversationOf(m: { groupId?: string | null; fromUserId: string | null; toUserId: string | null }, me: string): ConversationKey {
  if (m.groupId) return groupKey(m.groupId);
  return (m.fromUserId === me ? m.toUserId : m.fromUserId) ?? '';
}
