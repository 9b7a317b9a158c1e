import type { Pinia } from 'pinia';
import { effectScope, toValue, watch, type EffectScope, type Plugin } from 'vue';
import { configureHttp } from './api/http';
import { setOptions } from './context';
import { setLocaleSource } from './i18n';
import { startChatSession, stopChatSession } from './session';
import { useSessionStore } from './stores/session';
import type { ChatUser, FriendChatOptions } from './types';

/**
 * `app.use(createFriendChatPlugin({ apiBase, getToken, currentUser }))`, after `app.use(pinia)`.
 * The chat runs while `currentUser` is set. Several apps on one page may install the same plugin
 * (they share its session); the session stops when the last of them unmounts.
 */
export function createFriendChatPlugin(options: FriendChatOptions): Plugin {
  const apps = new Set<object>();
  let scope: EffectScope | null = null;
  let pinia: Pinia | null = null;

  function start(p: Pinia): void {
    pinia = p;
    setOptions(options);
    setLocaleSource(options.locale);
    configureHttp({ apiBase: options.apiBase, getToken: options.getToken, onUnauthorized: () => options.onUnauthorized?.() });
    scope = effectScope(true);
    scope.run(() => {
      const session = useSessionStore(p);
      watch(
        () => toValue(options.currentUser),
        (user: ChatUser | null) => {
          const previous = session.user?.id ?? null;
          if (user && user.id === previous) {
            session.user = user; // a profile change, same person
            return;
          }
          if (previous) stopChatSession(p);
          if (user) startChatSession(p, user, options);
        },
        { immediate: true },
      );
    });
  }

  function stop(): void {
    scope?.stop();
    scope = null;
    if (pinia) stopChatSession(pinia);
    pinia = null;
    setOptions(null);
  }

  return {
    install(app) {
      const p = app.config.globalProperties.$pinia as Pinia | undefined;
      if (!p) throw new Error('friend-chat: install Pinia first (app.use(createPinia())), then the friend-chat plugin.');
      apps.add(app);
      app.onUnmount(() => {
        apps.delete(app);
        if (!apps.size) stop();
      });
      if (!scope) start(p);
    },
  };
}
