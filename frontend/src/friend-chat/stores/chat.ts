import { defineStore } from 'pinia';
import type { ChatUser } from '../types';
import { groupKey, type ConversationKey } from '../utils/conversation';
import { isGroupEvent, type ThreadWireMessage } from '../utils/messageKinds';
import type { GroupInfo } from '../wire';
import { useConversationsStore } from './conversations';
import { useGroupsStore } from './groups';
import { useMessagesStore } from './messages';
import { useSessionStore } from './session';
import { isRecalled } from './thread';
import { useTypingStore } from './typing';
import { useWindowsStore } from './windows';

/** The steps that span several stores: opening a conversation, taking in messages, recalls. */
export const useChatStore = defineStore('friendChat', () => {
  const conversations = useConversationsStore();
  const groups = useGroupsStore();
  const messages = useMessagesStore();
  const session = useSessionStore();
  const typing = useTypingStore();
  const windows = useWindowsStore();

  /** Open (or bring back) a window and refresh its latest page. */
  function open(user: ChatUser): void {
    windows.open(user);
    void messages.loadLatest(user.id).catch(() => {});
  }

  function openGroup(group: GroupInfo): void {
    groups.remember([group]);
    windows.openGroup(group);
    void messages.loadLatest(groupKey(group.id)).catch(() => {});
    void groups.fetchMembers(group.id).catch(() => {});
  }

  /** Someone known by id only: me, a friend, an open window, a recent conversation, a group's member, or a bare id. */
  function userById(id: string): ChatUser {
    if (id === session.userId && session.user) return session.user;
    return windows.peer(id) ?? conversations.peer(id) ?? groups.people[id] ?? { id, username: '', displayName: '', avatarUrl: null };
  }

  /** A group known by id only: from my list, a window or an earlier look; else fetched. */
  async function groupById(id: string): Promise<GroupInfo> {
    const known = windows.group(id);
    if (known) return known;
    await groups.fetchMembers(id);
    const fetched = groups.byId(id);
    if (!fetched) throw new Error(`friend-chat: no group ${id} to open`);
    return fetched;
  }

  /** Messages of conversations (chat and group events) from a sync page, pushes or acks. */
  function ingest(list: ThreadWireMessage[]): void {
    // People named by group events: senders who may have left since.
    for (const m of list) if (isGroupEvent(m)) groups.meet([m.metadata.actor, ...(m.metadata.users ?? [])].filter(Boolean), false);
    // Sync brings recalled messages again: they leave the list like a live recall.
    for (const m of list) if (isRecalled(m)) conversations.forget(m.id);
    for (const batch of messages.ingest(list).values()) {
      const last = batch.filter((m) => !isRecalled(m)).at(-1);
      if (!last) continue;
      conversations.note(last);
      if (last.groupId) groups.note(last);
    }
  }

  /** A live `chat:message`; answers whether this tab had not seen it yet. */
  function receive(message: ThreadWireMessage): boolean {
    const key = messages.keyOf(message);
    const seen = messages.has(key, message.id);
    if (message.fromUserId) typing.set(key, message.fromUserId, false);
    ingest([message]);
    return !seen;
  }

  function remove(messageId: string, key: ConversationKey): void {
    messages.remove(messageId, key);
    conversations.forget(messageId);
  }

  return { open, openGroup, userById, groupById, ingest, receive, remove };
});
