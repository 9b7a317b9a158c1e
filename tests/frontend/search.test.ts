// Message search in the Vue module (issue 14): the box in the conversations menu and in a window,
// results with their matched parts marked (as text, never HTML), and a click that opens the
// conversation at the message, loading older history until it is there.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { FriendChatConversationsMenu, FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { alice, bob, endSession, flush, group, groupWire, listEntry, startSession, wire } from './helpers/session';
import type { ChatWireMessage } from '@shared/events';
import type { Handler } from './helpers/fakeHttp';
import { highlightParts, snippet } from '@/friend-chat/utils/highlight';

const MenuWithDock = defineComponent({ setup: () => () => h('div', [h(FriendChatConversationsMenu), h(FriendChatDock)]) });

afterEach(endSession);

const $ = <E extends Element = HTMLElement>(selector: string) => document.body.querySelector<E>(selector);
const $$ = (selector: string) => [...document.body.querySelectorAll<HTMLElement>(selector)];

/** Bob's history with alice: 60 messages, the wanted one among the oldest (on the second page). */
const history: ChatWireMessage[] = Array.from({ length: 60 }, (_, i) => wire(i % 2 ? alice : bob, i % 2 ? bob : alice, `message ${i}`));
const wanted = history[3]!;
wanted.content = '😀 <b>火锅</b> tonight? Hotpot!';

/** The search answer, and the chat routes (the :peerId route also answers /messages/search, as a path would). */
function routes(searches: URLSearchParams[]): Record<string, Handler> {
  const search: Handler = ({ query }) => {
    searches.push(query);
    return { results: [{ message: wanted, highlights: [[6, 8], [22, 28]] }], nextCursor: null };
  };
  return {
    'GET /api/messages/:peerId': (req) => {
      if (req.params.peerId === 'search') return search(req);
      // Two pages: the newest 50, then the 10 oldest.
      const before = req.query.get('before');
      return before ? { messages: history.slice(0, 10), nextCursor: null } : { messages: history.slice(10), nextCursor: 'older' };
    },
  };
}

async function typeAndSearch(input: HTMLInputElement, text: string): Promise<void> {
  input.value = text;
  input.dispatchEvent(new Event('input'));
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await flush();
}

describe('message search', () => {
  it('searches everywhere from the conversations menu, marks the matches as text, and opens the conversation at the message', async () => {
    const searches: URLSearchParams[] = [];
    const s = await startSession(routes(searches));
    s.socket.serverConnect();
    const wrapper = s.mountInApp(MenuWithDock);
    await flush();
    await wrapper.get('[data-testid="topbar-messages"]').trigger('click');
    await flush();
    await typeAndSearch($<HTMLInputElement>('[data-testid="search-input"]')!, '  火锅 ');

    expect(searches.map((q) => Object.fromEntries(q))).toEqual([{ q: '火锅', limit: '20' }]);
    const [result] = $$('[data-testid="search-result"]');
    expect(result?.dataset.messageId).toBe(wanted.id);
    expect($$('[data-testid="search-highlight"]').map((m) => m.textContent)).toEqual(['火锅', 'Hotpot']);
    // The message's markup is text: no <b> element, the angle brackets shown.
    expect(result!.querySelector('b')).toBeNull();
    expect(result!.textContent).toContain('<b>火锅</b>');
    expect(result!.textContent).toContain('Bob');

    result!.click();
    // The window for bob opens; the message was on the older page, which gets loaded.
    const found = () => $(`[data-testid="chat-window"][data-peer-id="${bob.id}"] [data-row-key="${wanted.id}"]`);
    await vi.waitFor(() => expect(found()?.closest('[data-highlighted]')).toBeTruthy(), { timeout: 5000 });
    const win = $(`[data-testid="chat-window"][data-peer-id="${bob.id}"]`);
    expect(s.http.calls.filter((c) => c.path === `/api/messages/${bob.id}`).map((c) => new URL(c.url, 'http://x').searchParams.get('before'))).toEqual([
      null,
      'older',
    ]);
    const row = win!.querySelector<HTMLElement>(`[data-row-key="${wanted.id}"]`);
    expect(row?.textContent).toContain('<b>火锅</b> tonight?');
    expect(row?.closest('[data-highlighted]')).not.toBeNull();
  });

  it('searches one conversation from its window (peerId), or one group (groupId)', async () => {
    const searches: URLSearchParams[] = [];
    const team = group(1, 'Hikers');
    const s = await startSession({
      ...routes(searches),
      'GET /api/groups': () => ({ groups: [listEntry(team)] }),
      'GET /api/groups/:groupId': () => ({ group: team, members: [] }),
      'GET /api/groups/:groupId/messages': () => ({ messages: [groupWire(bob, team, 'up the hill')], nextCursor: null }),
    });
    s.socket.serverConnect();
    s.mountInApp(MenuWithDock);
    await flush();
    const chat = useFriendChat();
    await chat.open(bob);
    await flush();
    // The window comes with the friends list (answered, but on a busy machine not within one flush).
    await vi.waitFor(() => expect($(`[data-peer-id="${bob.id}"] [data-testid="chat-window-search"]`)).not.toBeNull(), { timeout: 10_000 });
    $<HTMLElement>(`[data-peer-id="${bob.id}"] [data-testid="chat-window-search"]`)!.click();
    await flush();
    await typeAndSearch($<HTMLInputElement>(`[data-peer-id="${bob.id}"] [data-testid="search-input"]`)!, 'hotpot');
    expect(Object.fromEntries(searches.at(-1)!)).toEqual({ q: 'hotpot', peerId: bob.id, limit: '20' });
    expect($$(`[data-peer-id="${bob.id}"] [data-testid="search-result"]`)).toHaveLength(1);
    // The button closes the box again.
    $<HTMLElement>(`[data-peer-id="${bob.id}"] [data-testid="chat-window-search"]`)!.click();
    await flush();
    expect($(`[data-peer-id="${bob.id}"] [data-testid="search-input"]`)).toBeNull();

    await chat.open({ groupId: team.id });
    await flush();
    await vi.waitFor(() => expect($(`[data-group-id="${team.id}"] [data-testid="chat-window-search"]`)).not.toBeNull(), { timeout: 10_000 });
    $<HTMLElement>(`[data-group-id="${team.id}"] [data-testid="chat-window-search"]`)!.click();
    await flush();
    await typeAndSearch($<HTMLInputElement>(`[data-group-id="${team.id}"] [data-testid="search-input"]`)!, 'hill');
    expect(Object.fromEntries(searches.at(-1)!)).toEqual({ q: 'hill', groupId: team.id, limit: '20' });
  });
});

describe('highlight parts', () => {
  it('cuts text at the offsets (UTF-16 code units), clamps and merges bad ranges', () => {
    expect(highlightParts('😀 hello', [[3, 8]])).toEqual([
      { text: '😀 ', hit: false },
      { text: 'hello', hit: true },
    ]);
    expect(highlightParts('abc', [[2, 99], [0, 1], [1, 1]])).toEqual([
      { text: 'a', hit: true },
      { text: 'b', hit: false },
      { text: 'c', hit: true },
    ]);
    expect(highlightParts('', [])).toEqual([{ text: '', hit: false }]);
  });

  it('starts a long text a little before its first match, never inside an emoji', () => {
    const text = `${'x'.repeat(29)}😀 needle`;
    const cut = snippet(text, [[text.indexOf('needle'), text.length]], 2);
    expect(cut.text).toBe('…😀 needle');
    expect(highlightParts(cut.text, cut.highlights).find((p) => p.hit)?.text).toBe('needle');
    expect(snippet('short needle', [[6, 12]])).toEqual({ text: 'short needle', highlights: [[6, 12]] });
  });
});
