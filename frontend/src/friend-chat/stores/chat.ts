import { defineStore } from 'pinia';
import type { ChatUser } from '../types';
import type { ChatWireMessage } from '../wire';
import { useConversationsStore } from './conversations';
import { useMessagesStore } from './messages';
import { useTypingStore } from './typing';
import { useWindowsStore } from './windows';

/** The steps that span several stores: opening a conversation, taking in messages, recalls. */
export const useChatStore = defineStore('friendChat', () => {
  const conversations = useConversationsStore();
  const messages = useMessagesStore();
  const typing = useTypingStore();
  const windows = useWindowsStore();

  /** Open (or bring back) a window and refresh its latest page. */
  function open(user: ChatUser): void {
    windows.open(user);
    void messages.loadLatest(user.id).catch(() => {});
  }

  /** Someone known by id only: a friend, an open window, a recent conversation, or a bare id. */
  function userById(id: string): ChatUser {
    return windows.peer(id) ?? conversations.peer(id) ?? { id, username: '', displayName: '', avatarUrl: null };
  }

  /** Chat messages from a sync page or pushes. */
  function ingest(list: ChatWireMessage[]): void {
    for (const group of messages.ingest(list).values()) conversations.note(group[group.length - 1]!);
  }

  /** A live `chat:message`; answers whether this tab had not seen it yet. */
  function receive(message: ChatWireMessage): boolean {
    const peerId = messages.peerOf(message);
    const seen = messages.has(peerId, message.id);
    if (message.fromUserId === peerId) typing.set(peerId, false);
    ingest([message]);
    return !seen;
  }

  function remove(messageId: string, peerId: string): void {
    messages.remove(messageId, peerId);
    conversations.forget(messageId);
  }

  return { open, userById, ingest, receive, remove };
});
