// Voice messages recorded with MediaRecorder and locations from geolocation, with the browser's
// APIs replaced by stand-ins the test drives.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { installFakeUpload } from './helpers/fakeUpload';
import { bob, endSession, flush, startSession } from './helpers/session';

afterEach(endSession);

/** A microphone and a MediaRecorder that hands over 500 bytes of "audio" when stopped. */
function stubRecorder({ allowed = true } = {}) {
  const track = { stop: vi.fn() };
  const getUserMedia = vi.fn(async () => {
    if (!allowed) throw new DOMException('denied', 'NotAllowedError');
    return { getTracks: () => [track] };
  });
  Object.defineProperty(navigator, 'mediaDevices', { value: { getUserMedia }, configurable: true });
  class FakeRecorder {
    static isTypeSupported = (type: string) => type === 'audio/webm;codecs=opus';
    state = 'inactive';
    mimeType: string;
    ondataavailable: ((e: { data: Blob }) => void) | null = null;
    onstop: (() => void) | null = null;
    constructor(_stream: unknown, options?: { mimeType?: string }) {
      this.mimeType = options?.mimeType ?? '';
    }
    start() {
      this.state = 'recording';
    }
    stop() {
      this.state = 'inactive';
      this.ondataavailable?.({ data: new Blob([new Uint8Array(500)], { type: 'audio/webm;codecs=opus' }) });
      this.onstop?.();
    }
  }
  vi.stubGlobal('MediaRecorder', FakeRecorder);
  return { track, getUserMedia };
}

async function chatWithBob() {
  const s = await startSession();
  s.socket.serverConnect();
  const uploads = installFakeUpload();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  return { ...s, ...uploads, wrapper };
}

describe('voice messages', () => {
  it('records on click with the time shown, and sends the recording as voice on stop', async () => {
    const mic = stubRecorder();
    const { wrapper, sent } = await chatWithBob();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    await wrapper.get('[data-testid="chat-record"]').trigger('click');
    await flush();
    expect(mic.getUserMedia).toHaveBeenCalledWith({ audio: true });
    expect(wrapper.find('[data-testid="chat-input"]').exists()).toBe(false);
    vi.advanceTimersByTime(3_000);
    await flush();
    expect(wrapper.get('[data-testid="voice-recorder-time"]').text()).toBe('0:03');

    await wrapper.get('[data-testid="voice-send"]').trigger('click');
    await flush();
    expect(mic.track.stop).toHaveBeenCalled(); // the microphone is released
    expect(wrapper.find('[data-testid="voice-recorder"]').exists()).toBe(false);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.file.type).toBe('audio/webm');
    expect(sent[0]!.file.name).toMatch(/^voice-\d{14}\.webm$/);
    expect(sent[0]!.file.size).toBe(500);
    const bubble = wrapper.get('[data-testid="message-bubble"]');
    expect(bubble.get('[data-testid="message-voice"]').text()).toContain('0:03');
  });

  it('cancel throws the recording away', async () => {
    const mic = stubRecorder();
    const { wrapper, sent } = await chatWithBob();
    await wrapper.get('[data-testid="chat-record"]').trigger('click');
    await flush();
    await wrapper.get('[data-testid="voice-cancel"]').trigger('click');
    await flush();
    expect(mic.track.stop).toHaveBeenCalled();
    expect(sent).toHaveLength(0);
    expect(wrapper.find('[data-testid="message-bubble"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="chat-input"]').exists()).toBe(true);
  });

  it('says so when the microphone is refused', async () => {
    stubRecorder({ allowed: false });
    const { wrapper } = await chatWithBob();
    await wrapper.get('[data-testid="chat-record"]').trigger('click');
    await flush();
    expect(wrapper.get('[data-testid="chat-attach-error"]').text()).toBe('The microphone is not available.');
    expect(wrapper.find('[data-testid="voice-recorder"]').exists()).toBe(false);
  });
});

describe('locations', () => {
  function stubGeolocation(position: { latitude: number; longitude: number } | null) {
    const getCurrentPosition = vi.fn((ok: PositionCallback, fail: PositionErrorCallback) =>
      position ? ok({ coords: position } as GeolocationPosition) : fail({ code: 1, message: 'denied' } as GeolocationPositionError),
    );
    Object.defineProperty(navigator, 'geolocation', { value: { getCurrentPosition }, configurable: true });
  }

  it('sends where the browser says I am, shown as a card at once', async () => {
    stubGeolocation({ latitude: 52.520008, longitude: 13.404954 });
    const { wrapper, socket } = await chatWithBob();
    await wrapper.get('[data-testid="chat-location"]').trigger('click');
    await flush();
    const [send] = socket.emitsOf('chat:send');
    expect(send!.payload).toMatchObject({ to: bob.id, content: '', location: { lat: 52.520008, lng: 13.404954 } });
    expect(wrapper.get('[data-testid="message-location"]').text()).toContain('52.52001, 13.40495');
  });

  it('says so when the location is not available', async () => {
    stubGeolocation(null);
    const { wrapper, socket } = await chatWithBob();
    await wrapper.get('[data-testid="chat-location"]').trigger('click');
    await flush();
    expect(socket.emitsOf('chat:send')).toHaveLength(0);
    expect(wrapper.get('[data-testid="chat-attach-error"]').text()).toBe('Your location is not available.');
  });
});
