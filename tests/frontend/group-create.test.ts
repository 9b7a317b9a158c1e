import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import { FriendChatButton, FriendChatDock, FriendChatGroupList } from 'friend-chat/vue';
import { alice, bob, carol, dave, endSession, erin, flush, group, listEntry, startSession } from './helpers/session';
import { HttpError } from './helpers/fakeHttp';

const club = group(5, 'Book club');
const Page = defineComponent({
  setup: () => () => h('div', [h(FriendChatGroupList), h(FriendChatButton, { groupId: club.id }), h(FriendChatDock)]),
});

afterEach(endSession);

const $ = <E extends Element = HTMLElement>(selector: string) => document.body.querySelector<E>(selector);
const $$ = (selector: string) => [...document.body.querySelectorAll<HTMLElement>(selector)];

async function typeInto(selector: string, value: string): Promise<void> {
  const input = $<HTMLInputElement>(selector)!;
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await flush();
}

async function click(selector: string): Promise<void> {
  $(selector)!.click();
  await flush();
}

describe('a new group', () => {
  it('is made from picked friends and a name, shows in the list and opens its window', async () => {
    const created = group(1, 'Weekend hikers', { memberCount: 3 });
    const s = await startSession({
      'POST /api/groups': ({ body }) => {
        expect(body).toEqual({ name: 'Weekend hikers', memberIds: [bob.id, dave.id], visibility: 'private' });
        return { group: created };
      },
      'GET /api/groups/:groupId': () => ({
        group: created,
        members: [alice, bob, dave].map((u, i) => ({ user: u, role: i ? 'member' : 'owner', joinedAt: created.createdAt })),
      }),
    });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();

    await click('[data-testid="group-create"]');
    // Every friend is offered, by id.
    expect($$('[data-testid="group-member-option"]').map((o) => o.dataset.userId).sort()).toEqual([bob.id, carol.id, dave.id, erin.id].sort());
    await click(`[data-testid="group-member-option"][data-user-id="${bob.id}"]`);
    await click(`[data-testid="group-member-option"][data-user-id="${dave.id}"]`);
    await typeInto('[data-testid="group-name-input"]', '  Weekend hikers ');
    await click('[data-testid="group-create-submit"]');

    expect(s.http.calls.filter((c) => c.method === 'POST' && c.path === '/api/groups')).toHaveLength(1);
    const item = $(`[data-testid="group-item"][data-group-id="${created.id}"]`);
    expect(item?.textContent).toContain('Weekend hikers');
    const win = $(`[data-testid="chat-window"][data-group-id="${created.id}"]`);
    expect(win).not.toBeNull();
    expect(win!.hasAttribute('data-peer-id')).toBe(false);
    expect(win!.querySelector('[data-testid="group-window-name"]')?.textContent).toContain('Weekend hikers');
  });

  it('needs a name of 1 to 50 characters that is not only spaces', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();
    await click('[data-testid="group-create"]');
    const submit = () => $<HTMLButtonElement>('[data-testid="group-create-submit"]')!;

    expect(submit().disabled).toBe(true);
    await typeInto('[data-testid="group-name-input"]', '    ');
    expect(submit().disabled).toBe(true);
    await typeInto('[data-testid="group-name-input"]', 'x'.repeat(51));
    expect(submit().disabled).toBe(true);
    await typeInto('[data-testid="group-name-input"]', 'x'.repeat(50));
    expect(submit().disabled).toBe(false);
    expect(s.http.calls.some((c) => c.method === 'POST' && c.path === '/api/groups')).toBe(false);
  });

  it("says why the server refused, and keeps what was typed", async () => {
    const s = await startSession({
      'POST /api/groups': () => {
        throw new HttpError(403, 'NOT_FRIENDS');
      },
    });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();
    await click('[data-testid="group-create"]');
    await click(`[data-testid="group-member-option"][data-user-id="${carol.id}"]`);
    await typeInto('[data-testid="group-name-input"]', 'Book club');
    await click('[data-testid="group-create-submit"]');

    expect($('[data-testid="group-create-dialog"] [role="alert"]')?.textContent).toBe('You can only add your friends.');
    expect($<HTMLInputElement>('[data-testid="group-name-input"]')!.value).toBe('Book club');
    expect($('[data-testid="chat-window"]')).toBeNull();
  });

  it('lists my groups newest activity first, with their unread counts', async () => {
    const older = group(2, 'Quiet room');
    const newer = group(3, 'Busy room', { createdAt: new Date(Date.UTC(2030, 0, 2)).toISOString() });
    const s = await startSession({ 'GET /api/groups': () => ({ groups: [listEntry(older), listEntry(newer)] }) });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();
    s.socket.serverEmit('unread:update', { total: 4, byPeer: {}, byGroup: { [older.id]: 4 }, system: 0, muted: { users: [], groups: [] } });
    await flush();

    expect($$('[data-testid="group-item"]').map((i) => i.dataset.groupId)).toEqual([newer.id, older.id]);
    expect($(`[data-group-id="${older.id}"] [data-testid="group-unread"]`)?.textContent).toBe('4');
    expect($(`[data-group-id="${newer.id}"] [data-testid="group-unread"]`)).toBeNull();
  });
});

describe('public groups', () => {
  it('are found by name and joined; the joined group opens and joins my list', async () => {
    const hikers = group(4, 'City hikers', { visibility: 'public', ownerId: bob.id, memberCount: 12 });
    const s = await startSession({
      'GET /api/groups/discover': ({ query }) => ({ groups: query.get('q') === 'hik' ? [hikers] : [], nextCursor: null }),
      'POST /api/groups/:groupId/join': ({ params }) => {
        expect(params.groupId).toBe(hikers.id);
        return { group: { ...hikers, memberCount: 13 } };
      },
      'GET /api/groups/:groupId': () => ({ group: { ...hikers, memberCount: 13 }, members: [] }),
    });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();

    await click('[data-testid="group-discover"]');
    await typeInto('[data-testid="group-discover-search"]', 'hik');
    // Enter searches at once (typing searches after a pause).
    $('[data-testid="group-discover-search"]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await flush();
    expect($$('[data-testid="group-discover-item"]').map((i) => i.dataset.groupId)).toEqual([hikers.id]);
    expect($('[data-testid="group-discover-item"]')?.textContent).toContain('12 members');

    await click(`[data-testid="group-discover-item"][data-group-id="${hikers.id}"] [data-testid="group-join"]`);
    expect($(`[data-testid="chat-window"][data-group-id="${hikers.id}"]`)).not.toBeNull();
    expect($(`[data-testid="group-item"][data-group-id="${hikers.id}"]`)).not.toBeNull();
  });
});

describe('FriendChatButton', () => {
  it('opens a group by id', async () => {
    const s = await startSession({
      'GET /api/groups': () => ({ groups: [listEntry(club)] }),
      'GET /api/groups/:groupId': () => ({ group: club, members: [] }),
      'GET /api/groups/:groupId/messages': () => ({ messages: [], nextCursor: null }),
    });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();
    await click('[data-testid="friend-chat-button"]');
    expect($(`[data-testid="chat-window"][data-group-id="${club.id}"] [data-testid="group-window-name"]`)?.textContent).toContain('Book club');
  });
});
