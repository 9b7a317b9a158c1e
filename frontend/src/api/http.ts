// The demo's HTTP client: the chat module's (the demo's routes answer in the same error shape),
// on the demo's own paths. The session says where the token comes from and what a lost session does.
import { createApiClient } from 'friend-chat/vue';

export { ApiError } from 'friend-chat/vue';

interface HttpHooks {
  token: () => string | null;
  onUnauthorized: () => void;
}

// Set once by the session; kept out of the stores so this file imports nothing from them.
let hooks: HttpHooks = { token: () => null, onUnauthorized: () => {} };

export function configureHttp(next: HttpHooks): void {
  hooks = next;
}

export const { get, post, del } = createApiClient(() => ({ apiBase: '', getToken: hooks.token, onUnauthorized: hooks.onUnauthorized }));
