// Wires the demo's login to the chat module (as any host would: token, current user, callbacks)
// and keeps the demo's own per-user state and the title badge in step with it.
import { watch, watchEffect, type App } from 'vue';
import type { Router } from 'vue-router';
import { createFriendChatPlugin, useFriendChat, type NotificationSubject } from 'friend-chat/vue';
import { configureHttp } from '@/api/http';
import { i18n } from '@/i18n';
import { useAuthStore } from '@/stores/auth';
import { useHostStore } from '@/stores/host';
import { useUiStore } from '@/stores/ui';

/** The demo's pages for what a notification names: people search, or the work in the shop. */
function linkTo(router: Router, subject: NotificationSubject): string {
  const to =
    subject.kind === 'user'
      ? { path: '/', query: { q: subject.user.username } }
      : { path: '/', query: { work: subject.work.id }, hash: '#works' };
  return router.resolve(to).href;
}

export function installSession(app: App, router: Router): void {
  const auth = useAuthStore();
  const host = useHostStore();
  const ui = useUiStore();

  configureHttp({ token: () => auth.token, onUnauthorized: () => auth.logout() });
  app.use(
    createFriendChatPlugin({
      apiBase: '/api',
      getToken: () => auth.token,
      currentUser: () => auth.user,
      locale: () => ui.locale,
      onUnauthorized: () => auth.logout(),
      onNotificationClick: () => void router.push({ name: 'notifications' }),
      linkTo: (subject) => linkTo(router, subject),
      navigate: (href) => void router.push(href),
    }),
  );

  watch(
    () => auth.user?.id ?? null,
    (userId, previous) => {
      if (!previous) return;
      host.reset();
      if (!userId && !router.currentRoute.value.meta.guest) void router.push({ name: 'login' });
    },
  );

  // A stored session may have expired while the tab was closed: a 401 here logs out.
  if (auth.isAuthenticated) void auth.refreshMe().catch(() => {});

  // "(3) Friend Chat" while anything is unread, in the current language.
  const chat = useFriendChat();
  watchEffect(() => {
    const n = chat.unread.total + chat.unread.system;
    const name = i18n.global.t('app.name');
    document.title = n > 0 ? `(${n > 99 ? '99+' : n}) ${name}` : name;
  });
}
