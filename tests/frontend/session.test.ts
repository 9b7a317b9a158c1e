import { afterEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from '@/stores/auth';
import { connectionState, request } from '@/friend-chat/socket/client';
import { endSession, flush, startSession } from './helpers/session';
import { HttpError } from './helpers/fakeHttp';

afterEach(endSession);

describe('session', () => {
  it('a socket refused as unauthorized logs out and goes to the login page', async () => {
    const s = await startSession();
    s.socket.fire('connect_error', new Error('unauthorized'));
    await flush();
    expect(useAuthStore().isAuthenticated).toBe(false);
    expect(s.router.currentRoute.value.name).toBe('login');
  });

  it('a 401 from the API logs out', async () => {
    const s = await startSession({
      'GET /api/friends': () => {
        throw new HttpError(401, 'UNAUTHORIZED');
      },
    });
    await flush();
    expect(useAuthStore().isAuthenticated).toBe(false);
    expect(s.router.currentRoute.value.name).toBe('login');
  });

  it('after the server drops the socket, reconnect attempts back off from 1 s to 30 s', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const connect = vi.spyOn(s.socket, 'connect');
    s.socket.serverDisconnect();

    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      let waited = 0;
      while (connect.mock.calls.length === attempt && waited < 60_000) {
        await vi.advanceTimersByTimeAsync(500);
        waited += 500;
      }
      delays.push(waited);
      s.socket.failAttempt();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);

    // A successful connection resets the backoff.
    s.socket.serverConnect();
    s.socket.serverDisconnect();
    await vi.advanceTimersByTimeAsync(1000);
    expect(connect).toHaveBeenCalledTimes(8);
  });

  it('a tab told it is one socket too many stops, and does not reconnect (that would push out the next tab)', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const connect = vi.spyOn(s.socket, 'connect');
    s.socket.serverEmit('session:closed', { reason: 'too_many_sockets' });
    s.socket.serverDisconnect();
    const pending = request('presence:list', {}).catch((e: Error & { code: string }) => e.code);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(connect).not.toHaveBeenCalled();
    expect(connectionState.value).toBe('closed');
    expect(await pending).toBe('CLOSED');
    // Still signed in: only this tab's socket is gone.
    expect(useAuthStore().isAuthenticated).toBe(true);
  });

  it('after its token expired, the socket reconnects carrying the token current then', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    await flush();
    expect(s.socket.tokens).toEqual(['token-alice']);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const connect = vi.spyOn(s.socket, 'connect');

    // The host refreshed the session meanwhile.
    const auth = useAuthStore();
    auth.session = { token: 'token-alice-2', user: auth.user! };
    s.socket.serverEmit('session:closed', { reason: 'token_expired' });
    s.socket.serverDisconnect();
    await vi.advanceTimersByTimeAsync(1000);
    expect(connect).toHaveBeenCalledTimes(1);
    s.socket.serverConnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.socket.tokens).toEqual(['token-alice', 'token-alice-2']);
    expect(connectionState.value).toBe('connected');
  });

  it('after its token expired with no fresh one, the refused reconnect signs out', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    s.socket.serverEmit('session:closed', { reason: 'token_expired' });
    s.socket.serverDisconnect();
    await vi.advanceTimersByTimeAsync(1000);
    s.socket.fire('connect_error', new Error('unauthorized'));
    await vi.advanceTimersByTimeAsync(0);
    expect(useAuthStore().isAuthenticated).toBe(false);
    expect(s.router.currentRoute.value.name).toBe('login');
  });
});
