// The options the plugin was installed with. One friend chat per page: the socket and the HTTP
// client are single too, and a second Vue app on the page shares them (and its Pinia).
import type { FriendChatOptions } from './types';

let current: FriendChatOptions | null = null;

export function setOptions(options: FriendChatOptions | null): void {
  current = options;
}

/** The installed options; components also work (without host callbacks) before any install. */
export function chatOptions(): Partial<FriendChatOptions> {
  return current ?? {};
}
