// Wires the pieces of a logged-in session together: HTTP auth, the socket, per-user state,
// and the title badge. Everything starts when a user appears and stops when they leave.
import { watch, watchEffect } from 'vue';
import type { Router } from 'vue-router';
import { configureHttp } from '@/api/http';
import { i18n } from '@/i18n';
import { startRealtime, stopRealtime } from '@/socket';
import { useAuthStore } from '@/stores/auth';
import { useChatStore } from '@/stores/chat';
import { useFriendsStore } from '@/stores/friends';
import { useHostStore } from '@/stores/host';
import { useNotificationsStore } from '@/stores/notifications';
import { useUnreadStore } from '@/stores/unread';

export function installSession(router: Router): void {
  const auth = useAuthStore();
  const chat = useChatStore();
  const friends = useFriendsStore();
  const host = useHostStore();
  const notifications = useNotificationsStore();
  const unread = useUnreadStore();

  configureHttp({ token: () => auth.token, onUnauthorized: () => auth.logout() });

  watch(
    () => auth.user?.id ?? null,
    (userId, previous) => {
      if (previous) {
        stopRealtime();
        for (const store of [chat, friends, host, notifications, unread]) store.reset();
        if (!userId && !router.currentRoute.value.meta.guest) void router.push({ name: 'login' });
      }
      if (!userId || !auth.token) return;
      chat.restore(userId);
      startRealtime(auth.token, {
        onUnauthorized: () => auth.logout(),
        viewingNotifications: () => router.currentRoute.value.name === 'notifications',
        openNotifications: () => void router.push({ name: 'notifications' }),
      });
      void friends.load().catch(() => {});
    },
    { immediate: true },
  );

  // A stored session may have expired while the tab was closed: a 401 here logs out.
  if (auth.isAuthenticated) void auth.refreshMe().catch(() => {});

  // "(3) Friend Chat" while anything is unread, in the current language.
  watchEffect(() => {
    const n = unread.total + unread.system;
    const name = i18n.global.t('app.name');
    document.title = n > 0 ? `(${n > 99 ? '99+' : n}) ${name}` : name;
  });
}
