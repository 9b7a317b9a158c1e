// The wire contract shared by the backend and the frontend (DESIGN.md, "Socket.IO events").
// Both sides import these types, so a renamed event or field fails to compile on both.
// Keep this file free of runtime imports: the frontend bundles it.

export type MessageType =
  | 'CHAT'
  | 'SYSTEM_ACHIEVEMENT'
  | 'SYSTEM_TASK'
  | 'SYSTEM_PURCHASE'
  | 'SYSTEM_FOLLOW'
  | 'SYSTEM_FRIEND';

export const SYSTEM_MESSAGE_TYPES = [
  'SYSTEM_ACHIEVEMENT',
  'SYSTEM_TASK',
  'SYSTEM_PURCHASE',
  'SYSTEM_FOLLOW',
  'SYSTEM_FRIEND',
] as const satisfies readonly MessageType[];
export type SystemMessageType = (typeof SYSTEM_MESSAGE_TYPES)[number];

/** A user as anyone else may see them: public fields only. */
export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
  /**
   * Set on the placeholder for a user the host deleted (`chat.userDeleted`): `id` is then a
   * tombstone id (`deleted:…`), `displayName` an English fallback a client shows in its own words.
   */
  deleted?: true;
}

/** System message metadata, by type (DESIGN.md). */
export interface SystemMetadata {
  SYSTEM_FOLLOW: { follower: PublicUser };
  SYSTEM_FRIEND: { friend: PublicUser };
  SYSTEM_PURCHASE: { buyer: PublicUser; work: { id: string; title: string }; price: number };
  SYSTEM_TASK: { task: { id: string; title: string }; reward: number };
  SYSTEM_ACHIEVEMENT: { achievement: { code: string; title: string } };
}

/**
 * A notification type a host names itself (e.g. `SYSTEM_LIKE`): uppercase letters, digits and
 * `_`, stored, listed, counted and pushed like the built-in ones. (`string & {}` keeps editors
 * suggesting the built-in names.)
 */
export type HostMessageType = string & {};

/** What a message carries (DESIGN.md, "Rich messages"); system messages are `text`. */
export type MessageKind = 'text' | 'image' | 'file' | 'voice' | 'location';
export type AttachmentKind = 'image' | 'file' | 'voice';

/**
 * An upload, as `POST /api/uploads` answers it and as a message carries it. `kind` and `mime` come
 * from the bytes; `mime` and `size` describe the stored full-size file that `url` serves. `url`
 * and `thumbnailUrl` are signed and expire (every answer hands out fresh ones). Images have
 * `width`, `height` and `thumbnailUrl` (a WebP of at most 320 px); voice has `durationMs`.
 */
export interface WireAttachment {
  id: string;
  kind: AttachmentKind;
  name: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
  durationMs?: number;
  url: string;
  thumbnailUrl?: string;
}

/** A location message's place: latitude −90…90, longitude −180…180, an optional label (≤ 100). */
export interface WireLocation {
  lat: number;
  lng: number;
  label?: string;
}

/**
 * What a reply shows of the message it answers (DESIGN.md, "Message lifecycle"). `excerpt`: at
 * most 100 characters (code points) of its content, else its file name, else its place's label,
 * else ''. A recalled original: `recalled: true`, `excerpt: null`.
 */
export interface WireReplyTo {
  id: string;
  fromUserId: string | null;
  kind: MessageKind;
  excerpt: string | null;
  recalled: boolean;
}

/**
 * One emoji's reactions to a message: how many users gave it, and whether the receiver of this
 * message (the caller of a route, the user a sync or history page is for) is one of them. Listed
 * in the order each emoji was first given (ties by emoji).
 */
export interface WireReaction {
  emoji: string;
  count: number;
  mine: boolean;
}

/** Fields every message on the wire has; times are ISO strings. */
interface WireMessageBase {
  id: string;
  /** '' once recalled (`deletedAt` set). */
  content: string;
  clientId: string | null;
  isRead: boolean;
  readAt: string | null;
  createdAt: string;
  /** `text` unless the message carries an attachment (its kind) or a location. */
  kind: MessageKind;
  attachment: WireAttachment | null;
  location: WireLocation | null;
  /**
   * When the recipient's client first acknowledged it (`chat:delivered`); for a group message,
   * when the first member's did. null until then (and always for notifications).
   */
  deliveredAt: string | null;
  /** When its sender last edited it; null if never. */
  editedAt: string | null;
  /**
   * When it was recalled (or a notification deleted). Only sync hands out such messages (history
   * and counts leave them out); they carry no content: `content` '', `attachment`, `location`
   * and `replyTo` null, `reactions` [].
   */
  deletedAt: string | null;
  /** The message this one answers, or null. */
  replyTo: WireReplyTo | null;
  reactions: WireReaction[];
}

/** A message to one user (direct chat or a notification): `toUserId` set, `groupId` null. */
interface DirectWireMessageBase extends WireMessageBase {
  toUserId: string;
  groupId: null;
}

/** A chat message between two users. */
export interface ChatWireMessage extends DirectWireMessageBase {
  messageType: 'CHAT';
  fromUserId: string;
  metadata: Record<string, unknown>;
}

/** A built-in system message: no sender, metadata typed by its type (DESIGN.md table). */
export type SystemWireMessage<T extends SystemMessageType = SystemMessageType> = {
  [K in T]: DirectWireMessageBase & { messageType: K; fromUserId: null; metadata: SystemMetadata[K] };
}[T];

/**
 * A notification of a type the host defines (e.g. 'SYSTEM_LIKE'). Its type is an open string, so
 * TypeScript cannot tell it from the members above by `messageType` alone: narrow with a guard
 * that checks the type against CHAT and SYSTEM_MESSAGE_TYPES.
 */
export interface CustomWireMessage extends DirectWireMessageBase {
  messageType: HostMessageType;
  fromUserId: null;
  metadata: Record<string, unknown>;
}

/** Anything the server sends to the notification center: built-in system or host-defined. */
export type NotificationWireMessage = SystemWireMessage | CustomWireMessage;

// ---- Groups (DESIGN.md, "Groups") ----

export type GroupVisibility = 'private' | 'public';
export type GroupRole = 'owner' | 'admin' | 'member';
/** What a GROUP_EVENT message records; `group:member` uses the membership ones. */
export type GroupEventKind = 'created' | 'joined' | 'added' | 'left' | 'removed' | 'renamed';

/** A group as everyone who may see it sees it. */
export interface GroupInfo {
  id: string;
  /** 1–50 characters. */
  name: string;
  avatarUrl: string | null;
  visibility: GroupVisibility;
  ownerId: string;
  memberCount: number;
  createdAt: string;
}

export interface GroupMemberEntry {
  user: PublicUser;
  role: GroupRole;
  joinedAt: string;
  /**
   * The member's read position (GET /api/groups/:groupId; `group:read` moves it): a group message
   * is read by the members, its sender aside, whose `readAt` is at or after its `createdAt`
   * ("read by 3").
   */
  readAt?: string;
}

/**
 * A GROUP_EVENT's metadata: who did it (`actor`), to whom (`users`: created with, added,
 * removed) and the new `name` (created, renamed). Users carry public fields, so a notice
 * renders even after they left.
 */
export interface GroupEventMetadata {
  event: GroupEventKind;
  actor: PublicUser;
  users?: PublicUser[];
  name?: string;
}

/** A message in a group: `groupId` set, `toUserId` null. Its unread state is the member's read position (`isRead` stays false). */
interface GroupWireMessageBase extends WireMessageBase {
  toUserId: null;
  groupId: string;
}

/** A member's chat message in a group. */
export interface GroupChatWireMessage extends GroupWireMessageBase {
  messageType: 'CHAT';
  fromUserId: string;
  metadata: Record<string, unknown>;
}

/** A notice in the group's timeline (joins, leaves, removals, renames); never unread, no sender. */
export interface GroupEventWireMessage extends GroupWireMessageBase {
  messageType: 'GROUP_EVENT';
  fromUserId: null;
  metadata: GroupEventMetadata;
}

export type GroupWireMessage = GroupChatWireMessage | GroupEventWireMessage;

/**
 * A message on the wire. Direct chat and notifications have `toUserId` (and `groupId: null`);
 * group messages have `groupId` (and `toUserId: null`). `fromUserId` null = no sender (a
 * notification, or a group's GROUP_EVENT).
 */
export type WireMessage = ChatWireMessage | NotificationWireMessage | GroupWireMessage;

export interface UnreadCounts {
  /** Sum of byPeer and byGroup over the conversations that are not muted. */
  total: number;
  /** Unread chat messages per sender (direct chat); muted ones included. */
  byPeer: Record<string, number>;
  /** Unread chat messages per group (after the read position, not one's own, GROUP_EVENT never); muted ones included. */
  byGroup: Record<string, number>;
  /** Unread system messages, not part of total. */
  system: number;
  /**
   * Conversations muted right now: left out of `total`, and a client raises no desktop
   * notification for them. A new group message adds to `byGroup` on the client (see
   * docs/protocol.md, "Unread counts"); the client leaves it out of `total` when it is listed here.
   */
  muted: { users: string[]; groups: string[] };
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** TOO_LARGE only: the limit that was passed, so a client can check before the next try. */
  limit?: UploadLimit;
}

/** One of the upload limits (DESIGN.md, "Rich messages"). */
export type UploadLimit = { maxBytes: number } | { maxPixels: number } | { maxDurationMs: number };

export type ErrorCode =
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'NOT_FRIENDS'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'TOO_LARGE'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  /** 403: the caller is not (or no longer) a member of the group. */
  | 'NOT_MEMBER'
  /** 400: the group would have more than GROUP_MAX_MEMBERS members. */
  | 'GROUP_FULL'
  /** 422: the text contains a word of the content filter's list (CONTENT_FILTER_MODE=reject). */
  | 'CONTENT_REJECTED'
  /** 409: the message is older than EDIT_WINDOW_SECONDS, too old to edit. */
  | 'EDIT_WINDOW_CLOSED';

export type Ack<T extends object> = (res: ({ ok: true } & T) | { ok: false; error: ErrorBody }) => void;

export interface SyncPage {
  messages: WireMessage[];
  nextCursor: string;
  hasMore: boolean;
}

/**
 * What a chat message carries: text (`content`, 1–2000 characters), or an upload (`attachmentId`,
 * from `POST /api/uploads`) or a location, with `content` a caption that may be empty (0–2000). Not
 * both an attachment and a location. (The server also takes a missing `content` as empty.)
 */
export interface SendContent {
  content: string;
  clientId: string;
  attachmentId?: string;
  location?: WireLocation;
  /** The message this one answers: one of the same conversation (else 404 NOT_FOUND). */
  replyToId?: string;
}

/** A chat message to send: `to` a friend, or to a `groupId` the sender is a member of. */
export type SendPayload = ({ to: string } & SendContent) | ({ groupId: string } & SendContent);

export interface ClientToServerEvents {
  /** `to` a friend, or to a `groupId` the sender is a member of. */
  'chat:send': (payload: SendPayload, ack: Ack<{ message: WireMessage }>) => void;
  /** What `peerId` sent me, or a group up to now (the group answer adds `readAt`, the new read position). */
  'chat:read': (payload: { peerId: string } | { groupId: string }, ack: Ack<{ updated: number; readAt?: string }>) => void;
  'chat:typing': (payload: { to: string; typing: boolean } | { groupId: string; typing: boolean }, ack?: Ack<object>) => void;
  'chat:sync': (payload: { after?: string; limit?: number }, ack: Ack<SyncPage>) => void;
  'presence:list': (payload: Record<string, never>, ack: Ack<{ online: string[] }>) => void;
  /**
   * My client received these messages addressed to me (live or by sync): 1–100 ids. An id that
   * is not a message to me (direct: `toUserId` me; group: I am a current member, not its sender)
   * refuses the whole batch with NOT_FOUND, storing nothing. The answer names the ids this ack
   * stored (those not delivered before) and their `deliveredAt` (null when none): the receipt
   * (`chat:delivered`, server → client) goes to the senders and to my other sockets, not to
   * the socket that acked.
   */
  'chat:delivered': (payload: { messageIds: string[] }, ack: Ack<{ messageIds: string[]; deliveredAt: string | null }>) => void;
  /** The sender edits a text message within EDIT_WINDOW_SECONDS; the ack carries the edited message. */
  'chat:edit': (payload: { messageId: string; content: string }, ack: Ack<{ message: WireMessage }>) => void;
  /** Adds (`on: true`) or takes back my `emoji` on a message; the ack has its reactions as I see them. */
  'chat:react': (payload: { messageId: string; emoji: string; on: boolean }, ack: Ack<{ reactions: WireReaction[] }>) => void;
}

/**
 * Why the server closed a socket on purpose (`session:closed`, sent just before it does):
 * - `too_many_sockets`: the user opened more than the server allows at once (any node); the
 *   oldest goes. A client told this does not reconnect by itself, or it would push out the next.
 * - `token_expired`: the session the socket connected with ended. A client reconnects with a
 *   fresh token, or signs in again.
 * - `user_deleted`: the host deleted the user (`chat.userDeleted`); a reconnect is refused
 *   "unauthorized".
 */
export type SessionClosedReason = 'too_many_sockets' | 'token_expired' | 'user_deleted';

export interface ServerToClientEvents {
  'chat:message': (payload: { message: WireMessage }) => void;
  'chat:read': (payload: { by: string; peerId: string; readAt: string }) => void;
  /**
   * A recalled message: `peerId` for direct chat (the other party, seen from the receiver),
   * `groupId` for a group's; `deletedAt` as sync will show it. A client keeps the message as
   * recalled (see `WireMessage.deletedAt`) and marks replies to it (`replyTo.recalled`).
   */
  'chat:deleted': (payload: ({ messageId: string; peerId: string } | { messageId: string; groupId: string }) & { deletedAt: string }) => void;
  /**
   * Messages `by` received (`deliveredAt` set for the first time): to the sender and `by`'s tabs
   * (direct), or to the group's members (`groupId` set).
   */
  'chat:delivered': (payload: { by: string; messageIds: string[]; deliveredAt: string; groupId?: string }) => void;
  /**
   * A message was edited: to both sides (direct) or the group's members. A client replaces its
   * copy with `message` but keeps its own `reactions` (here they are as the editor sees them; a
   * client keeps its own up to date with `chat:reaction`), and updates `replyTo.excerpt` of
   * replies to it.
   */
  'chat:edited': (payload: { message: WireMessage }) => void;
  /** `userId` added (`on`) or took back `emoji` on a message: to both sides (direct) or the group's members. */
  'chat:reaction': (payload: { messageId: string; emoji: string; userId: string; on: boolean }) => void;
  /** `groupId` set: `from` is typing in that group (to the other members). */
  'chat:typing': (payload: { from: string; typing: boolean; groupId?: string }) => void;
  'presence:update': (payload: { userId: string; online: boolean; lastSeenAt: string | null }) => void;
  'notification:new': (payload: { message: WireMessage }) => void;
  'unread:update': (payload: UnreadCounts) => void;
  'session:closed': (payload: { reason: SessionClosedReason }) => void;
  /** The group changed (name, avatar, visibility, owner, member count): to its members. */
  'group:update': (payload: { group: GroupInfo }) => void;
  /**
   * Membership changed: to the members and to the users it concerns (added, removed, …), `by`
   * the user who did it. `role`: a member became `admin` or `member` (or `owner`, when ownership
   * passed on); `role` is then set. `group` is the group after the change.
   */
  'group:member': (payload: {
    groupId: string;
    event: 'joined' | 'added' | 'left' | 'removed' | 'role';
    userIds: string[];
    by: string;
    role?: GroupRole;
    group: GroupInfo;
  }) => void;
  /** `userId` read the group up to `readAt`: to the members. */
  'group:read': (payload: { groupId: string; userId: string; readAt: string }) => void;
}

/** Between backend nodes (through the Socket.IO adapter). */
export interface InterServerEvents {
  /** Acknowledged once the receiving node dropped its cached friendships of these users. */
  'friends:changed': (userIds: string[], ack: () => void) => void;
  /**
   * Acknowledged once the receiving node forgot these users, deleted by the host: their cached
   * friendships dropped and their sockets on that node closed (`session:closed` `user_deleted`).
   */
  'users:deleted': (userIds: string[], ack: () => void) => void;
  /** Close these sockets, if they are on the receiving node, telling each client why. */
  'sockets:close': (socketIds: string[], reason: SessionClosedReason) => void;
  /** These users became (`member: true`) or stopped being members of the group: their sockets join or leave its room. */
  'groups:membership': (change: { groupId: string; userIds: string[]; member: boolean }) => void;
}

export interface SocketData {
  userId: string;
}

/** HTTP answers the frontend reads (DESIGN.md, "HTTP API"). */
export interface FriendEntry {
  user: PublicUser;
  online: boolean;
  lastSeenAt: string | null;
  unread: number;
}

export interface ConversationEntry {
  peer: PublicUser;
  lastMessage: WireMessage;
  unread: number;
  updatedAt: string;
  /** Muted (PUT /api/mutes/user/:id): no desktop notification, not in the unread total. */
  muted: boolean;
}

/** A group in the conversations list, beside the `{ peer, … }` entries. */
export interface GroupConversationEntry {
  group: GroupInfo;
  lastMessage: GroupWireMessage;
  unread: number;
  updatedAt: string;
  muted: boolean;
}

/** GET /api/groups: my groups, newest activity first. */
export interface GroupListEntry {
  group: GroupInfo;
  role: GroupRole;
  unread: number;
  /** The newest message or notice; null only if the group has none left (all recalled). */
  lastMessage: GroupWireMessage | null;
  muted: boolean;
}

/** PUT /api/mutes/:kind/:id answers it; `until` null = until unmuted. */
export interface MuteEntry {
  kind: 'user' | 'group';
  id: string;
  until: string | null;
}

export interface WorkEntry {
  id: string;
  title: string;
  price: number;
  owner: PublicUser;
  createdAt: string;
  purchasedByMe: boolean;
}

export interface TaskEntry {
  id: string;
  code: string;
  title: string;
  description: string;
  reward: number;
  completed: boolean;
  completedAt: string | null;
}

export interface AchievementEntry {
  code: string;
  title: string;
  description: string;
  unlockedAt: string;
}
