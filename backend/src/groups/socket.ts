// Group side of a new socket. The group events themselves (`chat:send`, `chat:read`,
// `chat:typing` with a `groupId`) are handled with their direct-chat versions in chat/socket.ts,
// which calls the same services as the HTTP routes.
import type { ChatSocket } from '../realtime/socketServer.ts';
import type { GroupRooms } from './rooms.ts';

export function registerGroupHandlers(socket: ChatSocket, deps: { rooms: GroupRooms }): void {
  // The rooms of the user's groups, found during the handshake: before any other handler runs.
  deps.rooms.joinFound(socket);
}
