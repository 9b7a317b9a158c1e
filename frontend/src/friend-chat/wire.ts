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
  MessageKind,
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
