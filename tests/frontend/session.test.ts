import { afterEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from '@/stores/auth';
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
});
