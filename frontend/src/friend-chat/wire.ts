// The wire contract the server shares with this module (its HTTP answers and socket events), in
// one place so that every other file of the module imports it from here.
export { SYSTEM_MESSAGE_TYPES } from '../../../backend/src/realtime/events';
export type {
  ChatWireMessage,
  ClientToServerEvents,
  ConversationEntry,
  CustomWireMessage,
  ErrorBody,
  FriendEntry,
  NotificationWireMessage,
  PublicUser,
  ServerToClientEvents,
  SessionClosedReason,
  SystemMessageType,
  SystemMetadata,
  SystemWireMessage,
  UnreadCounts,
  WireMessage,
} from '../../../backend/src/realtime/events';
