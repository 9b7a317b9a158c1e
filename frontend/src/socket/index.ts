// The chat module's real-time entry point: start one socket per session, stop it on logout.
import { closeSocket, openSocket } from './client';
import { registerListeners, type RealtimeHooks } from './listeners';

export { connectionState, request, setSocketFactory } from './client';
export type { RealtimeHooks } from './listeners';

export function startRealtime(token: string, hooks: RealtimeHooks): void {
  openSocket({ token, register: (socket) => registerListeners(socket, hooks), onUnauthorized: hooks.onUnauthorized });
}

export const stopRealtime = closeSocket;
