// Rich messages as they arrive: images inline with a full-size viewer, file cards with a
// download link, voice with its length, locations with a map link; captions under media;
// previews in one line; signed urls renewed when they fail to load.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatWireMessage } from '@shared/events';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { setLocaleSource, t } from '@/friend-chat/i18n';
import { messageText } from '@/friend-chat/utils/media';
import type { MessageKind, WireAttachment, WireLocation } from '@/friend-chat/wire';
import { storedAttachment } from './helpers/fakeUpload';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

afterEach(() => {
  setLocaleSource(undefined);
  endSession();
});

type Rich = { kind: MessageKind; attachment?: WireAttachment | null; location?: WireLocation | null };
/** A stored rich message (`same`: a fresh copy of that one, as a later page hands it out). */
const rich = (content: string, fields: Rich, from = bob, same?: ChatWireMessage): ChatWireMessage =>
  ({ ...(same ?? wire(from, from === bob ? alice : bob, content)), attachment: null, location: null, ...fields }) as ChatWireMessage;

const image = storedAttachment({ name: 'hotel.jpg', type: 'image/jpeg', size: 180_000 }, { width: 800, height: 400 });
const report = storedAttachment({ name: 'report.pdf', type: 'application/pdf', size: 2048 });
const voice = storedAttachment({ name: 'voice.webm', type: 'audio/webm', size: 9000 }, { durationMs: 12_400 });
const eiffel: WireLocation = { lat: 48.8584, lng: 2.2945 };

async function openBob(history: ChatWireMessage[]) {
  const pages: ChatWireMessage[][] = [history];
  const s = await startSession({ 'GET /api/messages/:peerId': () => ({ messages: pages[pages.length - 1], nextCursor: null }) });
  s.socket.serverConnect();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const historyCalls = () => s.http.calls.filter((c) => c.path === `/api/messages/${bob.id}`).length;
  return { ...s, wrapper, historyCalls, serve: (page: ChatWireMessage[]) => pages.push(page) };
}

describe('rich messages in a window', () => {
  it('shows each kind with its caption', async () => {
    const { wrapper } = await openBob([
      rich('The view from the hotel', { kind: 'image', attachment: image }),
      rich('', { kind: 'file', attachment: report }),
      rich('', { kind: 'voice', attachment: voice }),
      rich('Meet here', { kind: 'location', location: eiffel }),
    ]);
    const [img, file, vox, loc] = wrapper.findAll('[data-testid="message-bubble"]');

    const thumb = img!.get('[data-testid="message-image"] img');
    expect(thumb.attributes('src')).toBe(new URL(image.thumbnailUrl!, location.href).href);
    expect(img!.get('[data-testid="message-image"]').attributes('style')).toContain('width: 220px; height: 110px');
    expect(img!.get('.caption').text()).toBe('The view from the hotel');

    expect(file!.get('[data-testid="message-file"]').text()).toContain('report.pdf');
    expect(file!.get('[data-testid="message-file"]').text()).toContain('2.0 KB');
    const link = file!.get('[data-testid="message-file-download"]');
    expect(link.attributes('href')).toBe(new URL(report.url, location.href).href);
    expect(link.attributes('download')).toBe('report.pdf');

    expect(vox!.get('[data-testid="message-voice"]').text()).toContain('0:12');
    expect(vox!.get('audio').attributes('src')).toBe(new URL(voice.url, location.href).href);

    const card = loc!.get('[data-testid="message-location"]');
    expect(card.text()).toContain('48.85840, 2.29450');
    expect(card.get('a').attributes('href')).toBe('https://www.openstreetmap.org/?mlat=48.858400&mlon=2.294500#map=16/48.858400/2.294500');
    expect(card.get('a').attributes('rel')).toContain('noopener');
    expect(loc!.text()).toContain('Meet here');
  });

  it('opens the full image in a viewer and closes it with Escape', async () => {
    const { wrapper } = await openBob([rich('', { kind: 'image', attachment: image })]);
    await wrapper.get('[data-testid="message-image"]').trigger('click');
    await flush();
    const full = document.querySelector<HTMLImageElement>('[data-testid="image-viewer-img"]');
    expect(full?.getAttribute('src')).toBe(new URL(image.url, location.href).href);

    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await flush();
    expect(document.querySelector('[data-testid="image-viewer"]')).toBeNull();
  });

  it('an image whose url fails is fetched again with a fresh url; failing again, it says so', async () => {
    const stale = { ...image, thumbnailUrl: image.thumbnailUrl!.replace('exp=4102444800', 'exp=1000') };
    const first = rich('', { kind: 'image', attachment: stale });
    const { wrapper, historyCalls, serve } = await openBob([first]);
    const before = historyCalls();
    serve([rich('', { kind: 'image', attachment: image }, bob, first)]);

    await wrapper.get('[data-testid="message-image"] img').trigger('error');
    await flush();
    expect(historyCalls()).toBe(before + 1);
    expect(wrapper.get('[data-testid="message-image"] img').attributes('src')).toBe(new URL(image.thumbnailUrl!, location.href).href);

    // The fresh url fails too (the file is gone) and asking again brings the same url: a clear
    // placeholder, and no loop of refetches.
    await wrapper.get('[data-testid="message-image"] img').trigger('error');
    await flush();
    expect(historyCalls()).toBe(before + 2);
    expect(wrapper.find('[data-testid="message-image"] img').exists()).toBe(false);
    expect(wrapper.get('[data-testid="message-image"]').text()).toContain('Not available');
  });
});

describe('one-line previews', () => {
  const samples = [
    rich('', { kind: 'image', attachment: image }),
    rich('look', { kind: 'image', attachment: image }),
    rich('', { kind: 'voice', attachment: voice }),
    rich('', { kind: 'file', attachment: report }),
    rich('', { kind: 'location', location: eiffel }),
    rich('', { kind: 'location', location: { ...eiffel, label: 'Eiffel Tower' } }),
  ];

  it('say what a message carries, in English and Chinese', () => {
    expect(samples.map((m) => messageText(m, t))).toEqual([
      '[Image]', '[Image] look', '[Voice 0:12]', '[File] report.pdf', '[Location]', '[Location] Eiffel Tower',
    ]);
    setLocaleSource('zh-CN');
    expect(samples.map((m) => messageText(m, t))).toEqual(['[图片]', '[图片] look', '[语音 0:12]', '[文件] report.pdf', '[位置]', '[位置] Eiffel Tower']);
  });

  it('name the media in a desktop notification', async () => {
    const shown: { title: string; body?: string }[] = [];
    vi.stubGlobal(
      'Notification',
      class {
        static permission = 'granted';
        onclick = null;
        constructor(title: string, options: NotificationOptions) {
          shown.push({ title, body: options.body });
        }
      },
    );
    const s = await startSession();
    s.socket.serverConnect();
    s.mountInApp(FriendChatDock);
    await flush();
    s.socket.serverEmit('chat:message', { message: rich('', { kind: 'voice', attachment: voice }) });
    await flush();
    expect(shown).toEqual([{ title: 'Bob', body: '[Voice 0:12]' }]);
  });
});
