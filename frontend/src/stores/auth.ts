import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { PublicUser } from '@shared/events';
import { authApi, type AuthAnswer } from '@/api/endpoints';
import { load, save, storageKey } from '@/utils/storage';

interface Session {
  token: string;
  user: PublicUser;
}

export const useAuthStore = defineStore('auth', () => {
  const session = ref<Session | null>(load<Session | null>('session', null));
  const token = computed(() => session.value?.token ?? null);
  const user = computed(() => session.value?.user ?? null);
  const isAuthenticated = computed(() => session.value !== null);

  function setSession(answer: AuthAnswer | null): void {
    session.value = answer ? { token: answer.token, user: answer.user } : null;
    save('session', session.value);
  }

  async function login(username: string, password: string): Promise<void> {
    setSession(await authApi.login(username, password));
  }

  async function register(username: string, password: string, displayName?: string): Promise<void> {
    setSession(await authApi.register({ username, password, displayName: displayName || undefined }));
  }

  /** Check a stored token is still valid and pick up profile changes; a 401 logs out via http. */
  async function refreshMe(): Promise<void> {
    if (!session.value) return;
    const { user: fresh } = await authApi.me();
    if (session.value) setSession({ token: session.value.token, user: fresh });
  }

  function logout(): void {
    setSession(null);
  }

  // Another tab logged in or out: follow it, so two tabs never run as different users.
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (e) => {
      if (e.key === storageKey('session')) session.value = load<Session | null>('session', null);
    });
  }

  return { session, token, user, isAuthenticated, login, register, refreshMe, logout };
});
