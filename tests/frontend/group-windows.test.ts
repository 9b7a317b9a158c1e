import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import type { GroupInfo, GroupMemberEntry, GroupRole, PublicUser } from '@shared/events';
import { FriendChatDock, FriendChatGroupList, FriendChatUnreadBadge, useFriendChat } from 'friend-chat/vue';
import { alice, bob, carol, dave, endSession, erin, flush, group, groupEvent, groupWire, listEntry, startSession } from './helpers/session';
import type { Handler } from './helpers/fakeHttp';

const Page = defineComponent({ setup: () => () => h('div', [h(FriendChatUnreadBadge), h(FriendChatGroupList), h(FriendChatDock)]) });

afterEach(endSession);

const $ = <E extends Element = HTMLElement>(selector: string) => document.body.querySelector<E>(selector);
const $$ = (selector: string) => [...document.body.querySelectorAll<HTMLElement>(selector)];
async function click(selector: string): Promise<void> {
  const el = $(selector);
  if (!el) throw new Error(`nothing matches ${selector}`);
  el.click();
  await flush();
}

const team = group(1, 'Weekend hikers');
const member = (user: PublicUser, role: GroupRole): GroupMemberEntry => ({ user, role, joinedAt: team.createdAt });

/** Alice is in `team` with bob and carol (alice's role given); its history is `history`. */
async function inGroup(options: { role?: GroupRole; history?: unknown[]; routes?: Record<string, Handler> } = {}) {
  const role = options.role ?? 'owner';
  const info: GroupInfo = { ...team, ownerId: role === 'owner' ? alice.id : bob.id };
  const members = [member(alice, role), member(bob, role === 'owner' ? 'admin' : 'owner'), member(carol, 'member')];
  const s = await startSession({
    'GET /api/groups': () => ({ groups: [listEntry(info, { role })] }),
    'GET /api/groups/:groupId': () => ({ group: info, members }),
    'GET /api/groups/:groupId/messages': () => ({ messages: options.history ?? [], nextCursor: null }),
    ...options.routes,
  });
  s.socket.serverConnect();
  const wrapper = s.mountInApp(Page);
  await flush();
  const win = () => $(`[data-testid="chat-window"][data-group-id="${team.id}"]`);
  const openWindow = () => click(`[data-testid="group-item"][data-group-id="${team.id}"]`);
  const texts = (testid: string) => $$(`[data-group-id="${team.id}"] [data-testid="${testid}"]`).map((e) => e.textContent!.trim());
  return { ...s, wrapper, win, openWindow, texts };
}

const bubbleTexts = (win: HTMLElement | null) =>
  [...(win?.querySelectorAll('[data-testid="message-bubble"] .bubble-text') ?? [])].map((e) => e.textContent);

describe('a group window', () => {
  it("shows who wrote each message, the group's events as sentences, and sends to the group", async () => {
    const g = await inGroup({
      history: [
        groupEvent(team, { event: 'created', actor: alice, users: [bob, carol], name: 'Weekend hikers' }),
        groupEvent(team, { event: 'added', actor: bob, users: [dave, carol] }),
        groupWire(bob, team, 'Saturday?'),
        groupWire(bob, team, 'Or Sunday'),
        groupWire(carol, team, 'Sunday works'),
        groupWire(alice, team, 'Sunday it is'),
        groupEvent(team, { event: 'left', actor: dave }),
      ],
    });
    await g.openWindow();

    expect(g.texts('group-event')).toEqual(['You created the group “Weekend hikers”', 'Bob added Dave and Carol', 'Dave left the group']);
    // A name over each run of someone else's messages; none over mine.
    expect(g.texts('message-sender')).toEqual(['Bob', 'Carol']);
    expect(bubbleTexts(g.win())).toEqual(['Saturday?', 'Or Sunday', 'Sunday works', 'Sunday it is']);
    expect(g.win()!.querySelectorAll('[data-sender-id] .user-avatar')).toHaveLength(2);

    const input = g.win()!.querySelector<HTMLTextAreaElement>('[data-testid="chat-input"]')!;
    input.value = 'See you there';
    input.dispatchEvent(new Event('input'));
    await flush();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await flush();
    const sent = g.socket.emitsOf('chat:send').map((e) => e.payload);
    expect(sent).toEqual([{ groupId: team.id, content: 'See you there', clientId: expect.any(String) }]);
    expect(g.win()!.querySelector('[data-testid="message-bubble"][data-status="sending"]')?.textContent).toContain('See you there');
  });

  it('says who is typing, by name', async () => {
    const g = await inGroup();
    await g.openWindow();
    g.socket.serverEmit('chat:typing', { from: carol.id, groupId: team.id, typing: true });
    await flush();
    expect(g.texts('typing-indicator')).toEqual(['Carol is typing…']);
    g.socket.serverEmit('chat:typing', { from: bob.id, groupId: team.id, typing: true });
    await flush();
    expect(g.texts('typing-indicator')).toEqual(['Carol and Bob are typing…']);
    // Bob's message ends his typing.
    g.socket.serverEmit('chat:message', { message: groupWire(bob, team, 'done') });
    g.socket.serverEmit('chat:typing', { from: carol.id, groupId: team.id, typing: false });
    await flush();
    expect(g.texts('typing-indicator')).toEqual([]);
  });

  it('counts new group messages in the badges, leaves a muted group out of the total, and reads them when seen', async () => {
    const g = await inGroup();
    const total = () => $('[data-testid="unread-total"]')?.textContent ?? null;
    const badge = () => $(`[data-testid="group-item"][data-group-id="${team.id}"] [data-testid="group-unread"]`)?.textContent ?? null;

    g.socket.serverEmit('chat:message', { message: groupWire(bob, team, 'one') });
    g.socket.serverEmit('chat:message', { message: groupWire(carol, team, 'two') });
    g.socket.serverEmit('chat:message', { message: groupWire(alice, team, 'mine, from another tab') });
    await flush();
    expect([badge(), total()]).toEqual(['2', '2']);

    // Muted (say in another tab): still counted on its own, not in the total.
    g.socket.serverEmit('unread:update', { total: 0, byPeer: {}, byGroup: { [team.id]: 2 }, system: 0, muted: { users: [], groups: [team.id] } });
    g.socket.serverEmit('chat:message', { message: groupWire(bob, team, 'three') });
    await flush();
    expect([badge(), total()]).toEqual(['3', null]);
    expect(g.socket.emitsOf('chat:read')).toHaveLength(0);

    await g.openWindow();
    expect(g.socket.emitsOf('chat:read').map((e) => e.payload)).toEqual([{ groupId: team.id }]);
    expect(badge()).toBeNull();
  });

  it('another tab of mine reading the group clears its badge here', async () => {
    const g = await inGroup();
    g.socket.serverEmit('chat:message', { message: groupWire(bob, team, 'one') });
    await flush();
    expect($('[data-testid="unread-total"]')?.textContent).toBe('1');
    g.socket.serverEmit('group:read', { groupId: team.id, userId: alice.id, readAt: new Date().toISOString() });
    await flush();
    expect($('[data-testid="unread-total"]')).toBeNull();
  });

  it('mutes and unmutes from the window menu', async () => {
    const g = await inGroup({ routes: { 'PUT /api/mutes/:kind/:id': () => ({}), 'DELETE /api/mutes/:kind/:id': () => undefined } });
    await g.openWindow();
    await click('[data-testid="group-menu"]');
    await click('[data-testid="group-menu-mute"]');
    expect(g.http.calls.filter((c) => c.path.startsWith('/api/mutes')).map((c) => `${c.method} ${c.path}`)).toEqual([`PUT /api/mutes/group/${team.id}`]);
    expect(g.win()!.querySelector('[data-testid="group-muted"]')).not.toBeNull();

    await click('[data-testid="group-menu"]');
    await click('[data-testid="group-menu-unmute"]');
    expect(g.http.calls.filter((c) => c.path.startsWith('/api/mutes')).map((c) => c.method)).toEqual(['PUT', 'DELETE']);
    expect(g.win()!.querySelector('[data-testid="group-muted"]')).toBeNull();
  });

  it('raises a desktop notification for a group message, but none for a muted group', async () => {
    const shown: string[] = [];
    vi.stubGlobal(
      'Notification',
      class {
        static permission = 'granted';
        onclick = null;
        constructor(title: string, options: NotificationOptions) {
          shown.push(`${title} | ${options.body}`);
        }
        close() {}
      },
    );
    const g = await inGroup();
    g.socket.serverEmit('chat:message', { message: groupWire(bob, team, 'Saturday?') });
    await flush();
    expect(shown).toEqual(['Weekend hikers | Bob: Saturday?']);

    g.socket.serverEmit('unread:update', { total: 0, byPeer: {}, byGroup: { [team.id]: 1 }, system: 0, muted: { users: [], groups: [team.id] } });
    g.socket.serverEmit('chat:message', { message: groupWire(carol, team, 'Sunday!') });
    await flush();
    expect(shown).toHaveLength(1);
  });

  it('leaves from the window menu, after a confirmation', async () => {
    const g = await inGroup({ routes: { 'DELETE /api/groups/:groupId/members/:userId': () => undefined } });
    await g.openWindow();
    await click('[data-testid="group-menu"]');
    await click('[data-testid="group-menu-leave"]');
    expect(g.http.calls.some((c) => c.method === 'DELETE')).toBe(false);
    await click('[data-testid="group-leave-submit"]');
    expect(g.http.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/api/groups/${team.id}/members/${alice.id}`]);
    expect(g.win()!.querySelector('[data-testid="group-not-member"]')).not.toBeNull();
    expect($(`[data-testid="group-item"][data-group-id="${team.id}"]`)).toBeNull();
  });

  it('removes a recalled group message', async () => {
    const hello = groupWire(bob, team, 'hello');
    const m = groupWire(bob, team, 'oops');
    const g = await inGroup({ history: [hello, m] });
    await g.openWindow();
    expect(bubbleTexts(g.win())).toEqual(['hello', 'oops']);
    g.socket.serverEmit('chat:deleted', { messageId: m.id, groupId: team.id, deletedAt: new Date().toISOString() });
    await flush();
    expect(bubbleTexts(g.win())).toEqual(['hello']);
  });
});

describe('group members', () => {
  const membersPanel = (role: GroupRole) => membersPanelWith(role, {});
  async function membersPanelWith(role: GroupRole, routes: Record<string, Handler>) {
    const g = await inGroup({ role, routes });
    await g.openWindow();
    await click('[data-testid="group-menu"]');
    await click('[data-testid="group-menu-members"]');
    const row = (u: PublicUser) => $(`[data-testid="group-member"][data-user-id="${u.id}"]`)!;
    return { ...g, row };
  }

  it('the owner may remove anyone but themself and make admins', async () => {
    const g = await membersPanel('owner');
    expect($$('[data-testid="group-member"]').map((r) => r.dataset.userId)).toEqual([alice.id, bob.id, carol.id]);
    expect(g.row(alice).querySelector('[data-testid="group-member-remove"]')).toBeNull();
    expect(g.row(bob).querySelector('[data-testid="group-member-remove"]')).not.toBeNull();
    expect(g.row(carol).querySelector('[data-testid="group-member-role"]')?.textContent?.trim()).toBe('Make admin');
    expect($('[data-testid="group-rename-input"]')).not.toBeNull();
  });

  it('an admin may remove members only; a member may only add friends and leave', async () => {
    const admin = await membersPanel('admin');
    expect(admin.row(bob).querySelector('[data-testid="group-member-remove"]')).toBeNull(); // bob owns it
    expect(admin.row(carol).querySelector('[data-testid="group-member-remove"]')).not.toBeNull();
    expect($$('[data-testid="group-member-role"]')).toHaveLength(0);
    endSession();

    await membersPanel('member');
    expect($$('[data-testid="group-member-remove"]')).toHaveLength(0);
    expect($('[data-testid="group-rename-input"]')).toBeNull();
    expect($('[data-testid="group-add-members"]')).not.toBeNull();
    expect($('[data-testid="group-leave"]')).not.toBeNull();
  });

  it('any member adds friends who are not in it yet', async () => {
    const added: unknown[] = [];
    await membersPanelWith('member', {
      'POST /api/groups/:groupId/members': ({ body }) => {
        added.push(body);
        return { added: [member(dave, 'member')] };
      },
    });
    await click('[data-testid="group-add-members"]');
    // Bob and Carol are in already.
    expect($$('[data-testid="group-members"] [data-testid="group-member-option"]').map((o) => o.dataset.userId)).toEqual([dave.id, erin.id]);
    await click(`[data-testid="group-members"] [data-testid="group-member-option"][data-user-id="${dave.id}"]`);
    await click('[data-testid="group-add-submit"]');
    expect(added).toEqual([{ userIds: [dave.id] }]);
  });

  it('the owner renames the group; a rename by someone else shows live', async () => {
    const patches: unknown[] = [];
    const g = await membersPanelWith('owner', {
      'PATCH /api/groups/:groupId': ({ body }) => {
        patches.push(body);
        return { group: { ...team, name: 'Sunday hikers' } };
      },
    });
    const input = $<HTMLInputElement>('[data-testid="group-rename-input"]')!;
    input.value = '  Sunday hikers ';
    input.dispatchEvent(new Event('input'));
    await flush();
    await click('[data-testid="group-rename-submit"]');
    expect(patches).toEqual([{ name: 'Sunday hikers' }]);
    expect(g.win()!.querySelector('[data-testid="group-window-name"]')?.textContent).toBe('Sunday hikers');

    g.socket.serverEmit('group:update', { group: { ...team, name: 'Lake people', memberCount: 4 } });
    await flush();
    expect(g.win()!.querySelector('[data-testid="group-window-name"]')?.textContent).toBe('Lake people');
    expect($(`[data-testid="group-item"][data-group-id="${team.id}"]`)?.textContent).toContain('Lake people');
    expect(g.win()!.textContent).toContain('4 members');
  });

  it("a removal shows at once; when it is me, the window says so and takes no more input", async () => {
    const g = await membersPanel('admin');
    g.socket.serverEmit('group:member', { groupId: team.id, event: 'removed', userIds: [carol.id], by: alice.id, group: { ...team, memberCount: 2 } });
    await flush();
    expect($$('[data-testid="group-member"]').map((r) => r.dataset.userId)).toEqual([bob.id, alice.id]);

    g.socket.serverEmit('group:member', { groupId: team.id, event: 'removed', userIds: [alice.id], by: bob.id, group: { ...team, memberCount: 1 } });
    await flush();
    expect(g.win()!.querySelector('[data-testid="group-not-member"]')?.textContent).toBe('You are no longer a member of this group.');
    expect(g.win()!.querySelector<HTMLTextAreaElement>('[data-testid="chat-input"]')!.disabled).toBe(true);
    expect($(`[data-testid="group-item"][data-group-id="${team.id}"]`)).toBeNull();
  });
});

describe('groups among the windows', () => {
  it('count toward the three windows with friends', async () => {
    const g = await inGroup();
    const chat = useFriendChat();
    chat.open(bob);
    chat.open(carol);
    await chat.open({ groupId: team.id });
    await flush();
    chat.open(dave);
    await flush();
    const open = $$('[data-testid="chat-window"]').map((w) => w.dataset.groupId ?? w.dataset.peerId);
    expect(open).toEqual([carol.id, team.id, dave.id]);
    expect(g.win()).not.toBeNull();
  });

  it('come back after a reload, named before any request answers', async () => {
    const first = await inGroup();
    useFriendChat().open(bob);
    await first.openWindow();
    const saved = localStorage.getItem(`friend-chat:${alice.id}:windows`);
    endSession();

    localStorage.setItem(`friend-chat:${alice.id}:windows`, saved!);
    const never = new Promise<never>(() => {});
    const second = await inGroup({ routes: { 'GET /api/groups': () => never, 'GET /api/groups/:groupId': () => never } });
    // Bob's window comes back with the friends list (answered); the group's without its requests.
    await vi.waitFor(() => expect($$('[data-testid="chat-window"]').map((w) => w.dataset.groupId ?? w.dataset.peerId)).toEqual([bob.id, team.id]), { timeout: 10_000 });
    expect(second.win()!.querySelector('[data-testid="group-window-name"]')?.textContent).toBe('Weekend hikers');
  });

  it('after a reconnect, show the group messages missed meanwhile', async () => {
    const first = groupWire(bob, team, 'before');
    const missed = groupWire(carol, team, 'while you were away');
    let pages = 0;
    const g = await inGroup({
      routes: { 'GET /api/groups/:groupId/messages': () => ({ messages: ++pages === 1 ? [first] : [first, missed], nextCursor: null }) },
    });
    await g.openWindow();
    expect(bubbleTexts(g.win())).toEqual(['before']);

    g.socket.dropConnection();
    g.socket.respond('chat:sync', () => ({ ok: true, messages: [missed], nextCursor: 'cursor-2', hasMore: false }));
    g.socket.serverConnect();
    await flush();
    expect(bubbleTexts(g.win())).toEqual(['before', 'while you were away']);
    expect(pages).toBe(2);
  });
});
