// The host's own login state: a token from POST /api/login, kept in localStorage.
import { reactive } from 'vue';

const saved = JSON.parse(localStorage.getItem('express-host-session') ?? 'null');

export const session = reactive({
  token: saved?.token ?? null,
  user: saved?.user ?? null,
  async login(username, password) {
    const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (!res.ok) throw new Error((await res.json()).error);
    const { token, user } = await res.json();
    Object.assign(session, { token, user });
    localStorage.setItem('express-host-session', JSON.stringify({ token, user }));
  },
  logout() {
    Object.assign(session, { token: null, user: null });
    localStorage.removeItem('express-host-session');
  },
  /** A request to one of the host's own routes. */
  api: (method, path) => fetch(path, { method, headers: { authorization: `Bearer ${session.token}` } }),
});
