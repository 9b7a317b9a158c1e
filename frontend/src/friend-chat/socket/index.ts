// The chat module's real-time entry point: one socket per session, stopped when the user leaves.
import type { Pinia } from 'pinia';
import { closeSocket, openSocket } from './client';
import { registerListeners, type RealtimeHooks } from './listeners';

export { closedReason, connectionState, reconnect, request, setSocketFactory } from './client';
export type { RealtimeHooks } from './listeners';

export interface RealtimeOptions extends RealtimeHooks {
  url?: string;
  getToken: () => string | null | Promise<string | null>;
  onUnauthorized: () => void;
}

export function startRealtime(pinia: Pinia, { url, getToken, onUnauthorized, ...hooks }: RealtimeOptions): void {
  openSocket({ url, getToken, onUnauthorized, register: (socket) => registerListeners(socket, pinia, hooks) });
}

export const stopRealtime = closeSocket;
