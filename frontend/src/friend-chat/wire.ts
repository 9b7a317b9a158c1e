// The wire contract the server shares with this module (its HTTP answers and socket events), in
// one place so that every other file of the module imports it from here.
export { SYSTEM_MESSAGE_TYPES } from '../../../backend/src/realtime/events';
export type {
  AttachmentKind,
  ChatWireMessage,
  ClientToServerEvents,
  ConversationEntry,
  CustomWireMessage,
  ErrorBody,
  FriendEntry,
  GroupChatWireMessage,
  GroupConversationEntry,
  GroupEventKind,
  GroupEventMetadata,
  GroupEventWireMessage,
  GroupInfo,
  GroupListEntry,
  GroupMemberEntry,
  GroupRole,
  GroupVisibility,
  GroupWireMessage,
  MessageKind,
  MuteEntry,
  NotificationWireMessage,
  PublicUser,
  SendPayload,
  ServerToClientEvents,
  SessionClosedReason,
  SystemMessageType,
  SystemMetadata,
  SystemWireMessage,
  UnreadCounts,
  WireAttachment,
  WireLocation,
  WireMessage,
} from '../../../backend/src/realtime/events';

// ---- Rich messages (DESIGN.md, "Rich messages") ----
// Declared here until the server's wire types carry them (branch `rich`); then re-exported.

/** What a message carries: `text` unless it has an attachment (its kind) or a location. */
export type MessageKind = 'text' | 'image' | 'file' | 'voice' | 'location';
export type AttachmentKind = 'image' | 'file' | 'voice';

/** An upload as POST /api/uploads answers it and a message carries it; urls are signed and expire. */
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

export interface WireLocation {
  lat: number;
  lng: number;
  label?: string;
}

/** The fields a rich message adds to the wire message. */
export interface RichFields {
  kind?: MessageKind;
  attachment?: WireAttachment | null;
  location?: WireLocation | null;
}
